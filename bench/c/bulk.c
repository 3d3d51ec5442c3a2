/*
 * The kernel's end of bench/loss.ts: a bulk sender or a counting sink on a
 * kernel socket with a chosen congestion control (TCP_CONGESTION; root may
 * pick any algorithm the kernel has, whatever the namespace allows).
 *
 *   bulk send HOST PORT CC        connect and write until the peer goes
 *   bulk sink HOST PORT SECONDS   accept one connection, count the bytes for
 *                                 SECONDS from the first, print bytes=N
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: bulk send HOST PORT CC | bulk sink HOST PORT SECONDS\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
  if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) return 2;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  static char buf[1 << 16];
  if (strcmp(argv[1], "send") == 0) {
    if (setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, argv[4], strlen(argv[4])) != 0) {
      perror("TCP_CONGESTION");
      return 1;
    }
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
      perror("connect");
      return 1;
    }
    while (write(s, buf, sizeof buf) > 0) {
    }
    return 0;
  }
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 1) != 0) {
    perror("listen");
    return 1;
  }
  printf("listening\n");
  fflush(stdout);
  int c = accept(s, NULL, NULL);
  /* A stalled peer must not hold the count open: wake up every 100 ms. */
  struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  double seconds = atof(argv[4]), start = 0;
  long long bytes = 0;
  for (;;) {
    ssize_t n = read(c, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (start != 0 && now() - start > seconds) break;
      continue;
    }
    if (n <= 0) break;
    if (start == 0) start = now();
    if (now() - start > seconds) break;
    bytes += n;
  }
  printf("bytes=%lld\n", bytes);
  return 0;
}
