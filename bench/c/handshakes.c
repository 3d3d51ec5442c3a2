/* Sequential handshakes on the Linux kernel over loopback, as the synack and
 * Node rows do them: connect, accept, then both ends abort with RST
 * (SO_LINGER 0). Prints "<handshakes per second> <per CPU-second>" for N. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4096) ||
      getsockname(l, (struct sockaddr *)&a, &len)) {
    perror("listen");
    return 1;
  }
  struct linger z = {1, 0};
  double t0 = now(), c0 = cpu();
  for (int i = 0; i < n; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a)) {
      perror("connect");
      return 1;
    }
    int s = accept(l, 0, 0);
    if (s < 0) {
      perror("accept");
      return 1;
    }
    setsockopt(c, SOL_SOCKET, SO_LINGER, &z, sizeof z);
    setsockopt(s, SOL_SOCKET, SO_LINGER, &z, sizeof z);
    close(c);
    close(s);
  }
  double dt = now() - t0, dc = cpu() - c0;
  printf("%.0f %.0f\n", n / dt, n / dc);
  return 0;
}
