#!/usr/bin/env -S node --max-semi-space-size=8
// The `synack` command. V8's young generation is held to 8 MiB semi-spaces
// (Node's default grows to 16): `synack serve` keeps thousands of long-lived
// connections, and the nursery's growth alone added ~1.3 KB of RSS per
// connection over 16,000 idle ones (8,000 after 8,000: ~2.2-2.6 KB at 16 MiB,
// ~1.3 KB at 8, ~1.2 KB at 4). A smaller nursery means more scavenges: at 4
// MiB a new HTTP connection per request ran ~10% below 16; 8 is between.
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { findScenario } from '../sim/scenarios/index.ts';
import { profiles } from '../tcp/types.ts';
import {
  FORMATS,
  type Format,
  listCommand,
  runCommand,
  scenarioHelp,
  scenarioParams,
  tourCommand,
} from './lab.ts';
import { connectCommand, type ServeMode, serveCommand, type WireOptions } from './realwire.ts';
import { scriptCommand, UsageError } from './script.ts';
import { webCommand } from './web.ts';

// A reader that goes away (`synack ... | head`) ends the output quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/**
 * Colour on a terminal unless NO_COLOR is set (https://no-color.org); FORCE_COLOR
 * forces it even into a pipe; --no-color turns it off.
 */
function useColor(flag: boolean | undefined): boolean {
  if (flag === false) return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  if (process.env.NO_COLOR) return false;
  return process.stdout.isTTY === true;
}

/** The ladder's width: --width, else the terminal's, else 96 columns. */
function ladderWidth(flag: number | undefined): number {
  return flag ?? (process.stdout.isTTY ? Math.max(60, process.stdout.columns ?? 96) : 96);
}

/** The package's version: package.json is two levels up from src/cli/ and from dist/cli/ alike. */
function version(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

const program = new Command();
program
  .name('synack')
  .description(
    'A TCP implementation built around connection establishment: run packet scripts and watch handshakes.',
  )
  .version(version(), '-V, --version', 'print the version')
  .exitOverride()
  // One line for every usage error, in synack's own voice.
  .configureOutput({
    outputError: (str, write) =>
      write(`synack: ${str.replace(/^error: /, '').trim()} (see --help)\n`),
  });

program
  .command('script')
  .description('run packet scripts (packetdrill syntax) against the synack stack in virtual time')
  .argument('<file...>', '.pkt files or directories holding them')
  .option(
    '--lenient',
    'check flags, sequence/ack numbers and payload length only (not windows or option layout)',
  )
  .addOption(
    new Option(
      '--profile <name>',
      "whose observable defaults the stack takes: RFC-strict synack, linux or freebsd (the README's profile table)",
    ).choices(Object.keys(profiles)),
  )
  .option('-v, --verbose', 'list skipped shell lines; with --kernel, every packet of both stacks')
  .option(
    '-D, --define <name[=value]>',
    "define a name for the scripts' #ifdef/#if lines (repeatable)",
    (v: string, prev: string[] = []) => [...prev, v],
  )
  .option('--json', 'one JSON report: per file status, line and reason, and the summary')
  .option(
    '--strict-segments',
    'match each segment the stack sends on its own (by default, as packetdrill, back-to-back segments may match one expected larger one)',
  )
  .option(
    '--ip-version <v>',
    'IP version for scripts that do not set --ip_version: ipv4 (default), ipv6, ipv4-mapped-ipv6 (IPv4 on the wire)',
  )
  .option(
    '--mtu <bytes>',
    "the link's MTU for scripts that do not set --mtu (default 1500): the MSS announced is the MTU less 40 bytes over IPv4, 60 over IPv6 (Linux's selftests run IPv4 scripts over IPv6 with --mtu 1520)",
  )
  .option(
    '--tolerance-usecs <n>',
    'how far from its time an outbound packet may be, for scripts that do not set --tolerance_usecs (default 4000)',
  )
  .option(
    '--kernel',
    'also replay each run on the Linux kernel (root: a network namespace and TUN device of its own, removed afterwards) and report where its packets or call results differ; the profile defaults to linux',
  )
  .option(
    '--strict-packets',
    'fail on any packet the stack sends that no line lists (by default, as packetdrill, an unlisted packet fails only the next expected packet, and packets after the last line are not examined)',
  )
  .addHelpText(
    'after',
    '\nOutput: one line per script (PASS/FAIL/SKIP), then "N passed, N failed, N skipped";\nwith --kernel, SAME/DIFF/FAIL/SKIP and the first difference.\nExit status: 0 when all pass (all the same), 1 when any fails or differs, 2 on a usage error.',
  )
  .action((files: string[], opts) => {
    process.exitCode = scriptCommand(files, opts, (s) => console.log(s));
  });

program
  .command('list')
  .description('list the scenarios with one-line descriptions')
  .allowExcessArguments(false)
  .action(() => {
    process.exitCode = listCommand((s) => console.log(s));
  });

const num = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, got "${v}"`);
  return n;
};

const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(
      `${name} must be an integer from ${min} to ${max.toLocaleString('en')}, got "${v}"`,
    );
  return n;
};

program
  .command('run')
  .description('run one scenario in the simulator and show what happened')
  .argument('<scenario>', 'a scenario name (see "synack list")')
  .option(
    '--seed <n>',
    'random seed: the same seed gives the same run, byte for byte',
    num('--seed', 0, 2 ** 32 - 1),
    1,
  )
  .option('--loss <p>', 'random loss probability on every link, 0..1', num('--loss', 0, 1))
  .option('--delay <ms>', 'one-way link latency in ms (default 10)', num('--delay', 0, 600_000))
  .addOption(
    new Option(
      '--format <f>',
      'how to show the run: a ladder diagram, tcpdump lines, JSON, plain-language explanations, the state timeline, an SVG time-sequence graph (tsg) or congestion window over time (cwnd)',
    )
      .choices([...FORMATS])
      .default('ladder'),
  )
  .option(
    '--pcap <file>',
    'also write the packets to a pcap file (one per variant: FILE.1.pcap, ...)',
  )
  .option(
    '--out <file>',
    'write what --format renders to a file instead of stdout (one per variant: FILE.1.svg, ...); e.g. --format tsg --out run.svg, --format cwnd --out cwnd.svg',
  )
  .addOption(
    new Option('--lang <l>', 'language of --format explain').choices(['en', 'zh']).default('en'),
  )
  .option('-S, --absolute', 'absolute sequence numbers (as tcpdump -S)')
  .option('--no-color', 'no colour even on a terminal (NO_COLOR and FORCE_COLOR are honoured)')
  .option(
    '--width <columns>',
    'ladder width (default: the terminal, or 96)',
    int('--width', 60, 1000),
  )
  .allowUnknownOption()
  .helpOption('-h, --help', 'show help (synack run SCENARIO --help: that scenario and its options)')
  .addHelpText(
    'after',
    "\nScenario options are given after the name, e.g.:\n  synack run old-duplicate-syn --handshake two-way --hold 90000\n  synack run syn-flood --rate 5000 --backlog 64\nsynack run SCENARIO --help lists a scenario's options with their ranges.\n\nExit status: 0 when the scenario's checks pass, 1 when one fails, 2 on a usage error.",
  )
  .action((name: string, opts, cmd: Command) => {
    const sc = findScenario(name);
    if (!sc) throw new UsageError(`unknown scenario "${name}" (run "synack list")`);
    const known = new Set(cmd.options.map((o) => o.long));
    const rest = cmd.args.slice(1).filter((a) => !known.has(a.split('=')[0]));
    process.exitCode = runCommand(
      name,
      {
        seed: opts.seed,
        loss: opts.loss,
        delay: opts.delay,
        format: opts.format as Format,
        pcap: opts.pcap,
        outFile: opts.out,
        lang: opts.lang,
        absolute: opts.absolute === true,
        color: useColor(opts.color),
        width: ladderWidth(opts.width),
        params: scenarioParams(sc, rest),
      },
      (s) => console.log(s),
      (s) => console.error(s),
    );
  });

program
  .command('tour')
  .allowExcessArguments(false)
  .description(
    "run the seed article's scenarios in order, each with a short heading, its ladder and its checks",
  )
  .addOption(new Option('--lang <l>', 'language').choices(['en', 'zh']).default('en'))
  .option('--no-color', 'no colour even on a terminal (NO_COLOR and FORCE_COLOR are honoured)')
  .option(
    '--width <columns>',
    'ladder width (default: the terminal, or 96)',
    int('--width', 60, 1000),
  )
  .action((opts) => {
    process.exitCode = tourCommand(
      { color: useColor(opts.color), lang: opts.lang, width: ladderWidth(opts.width) },
      (s) => console.log(s),
    );
  });

const wireOptions = (cmd: Command) =>
  cmd
    .requiredOption(
      '--tun <name>',
      'TUN device to attach to (created if it does not exist; needs root or CAP_NET_ADMIN)',
    )
    .requiredOption(
      '--addr <address/prefix>',
      "synack's own address on that link, e.g. 198.18.0.2/24",
    )
    .addOption(
      new Option('--trace <format>', 'live trace on stderr')
        .choices(['tcpdump', 'states', 'none'])
        .default('tcpdump'),
    )
    .option(
      '--pcap <file>',
      'write every segment sent and received to this pcap file, as they pass',
    )
    .option(
      '--stats <s>',
      'print a line of counters every this many seconds',
      int('--stats', 1, 86_400),
    )
    .option('-S, --absolute', 'absolute sequence numbers in the live trace (as tcpdump -S)')
    .option(
      '--delay-in <ms>',
      'hold every arriving packet this long before the stack sees it (added latency)',
      num('--delay-in', 0, 60_000),
    )
    .addOption(
      new Option(
        '--profile <name>',
        'behave as this stack where the peer can see it (windows, options, PSH, buffers; see the README table)',
      ).choices(Object.keys(profiles)),
    )
    .option(
      '--offload',
      'let the kernel cut and join TCP segments and fill in checksums (TSO/GRO, as for a NIC): up to 64 KiB per read and write; the trace shows the large segments',
    )
    .option(
      '--no-configure',
      'do not bring the device up or route its prefix to it (configure it yourself)',
    );

const wireOpts = (o: Record<string, unknown>): WireOptions => ({
  stats: o.stats as number | undefined,
  tun: String(o.tun),
  addr: String(o.addr),
  trace: o.trace as WireOptions['trace'],
  pcap: o.pcap as string | undefined,
  configure: o.configure !== false,
  absolute: o.absolute === true,
  delayIn: o.delayIn as number | undefined,
  profile: o.profile as string | undefined,
  offload: o.offload === true,
});

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError(`PORT must be an integer from 1 to 65535, got "${v}"`);
  return n;
};

wireOptions(
  program
    .command('connect')
    .allowExcessArguments(false)
    .description(
      'connect to HOST PORT through a TUN device with the synack stack; sends stdin (or --data), prints what comes back',
    )
    .argument('<host>', 'address to connect to (reachable through the TUN device)')
    .argument('<port>', 'port', port)
    .option('--data <text>', 'send this instead of stdin, then half-close')
    .option(
      '--syn-data',
      'put the start of --data on the SYN itself (it must be sent again if the peer ignores it)',
    )
    .option(
      '--repeat <n>',
      'send --data this many times over (for bulk transfers)',
      int('--repeat', 1, 1_000_000),
    )
    .option(
      '--send <bytes>',
      'send this many generated bytes (a throughput run against a discard server), then half-close',
      int('--send', 0, 2 ** 50),
    )
    .option('--local-port <port>', 'connect from this port (default: an ephemeral one)', port)
    .option(
      '--after <ms>',
      'wait this long after attaching before connecting',
      num('--after', 0, 600_000),
    ),
).action(async (host: string, p: number, o) => {
  let data = typeof o.data === 'string' ? new TextEncoder().encode(o.data) : null;
  if (data && o.repeat > 1) {
    const big = new Uint8Array(data.length * o.repeat);
    for (let i = 0; i < o.repeat; i++) big.set(data, i * data.length);
    data = big;
  }
  if (o.synData && !data) throw new UsageError('--syn-data needs --data');
  if (o.send !== undefined && data) throw new UsageError('choose one of --data and --send');
  process.exitCode = await connectCommand(
    host,
    p,
    { data, send: o.send, synData: o.synData === true, localPort: o.localPort, after: o.after },
    wireOpts(o),
    (b) => process.stdout.write(b),
    (s) => console.error(s),
  );
  // Writes to a pipe are asynchronous: let stdout drain before exiting.
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  process.exit();
});

wireOptions(
  program
    .command('serve')
    .allowExcessArguments(false)
    .description('serve on PORT through a TUN device with the synack stack, until interrupted')
    .argument('<port>', 'port', port)
    .option('--echo', 'echo what each client sends (the default)')
    .option(
      '--http',
      "answer HTTP/1.1 requests (Node's http on synack sockets: keep-alive, pipelining, HEAD, 400)",
    )
    .option('--discard', 'read and drop what each client sends')
    .option(
      '--http-body <bytes>',
      'with --http: the size of each response body',
      int('--http-body', 0, 1 << 30),
    )
    .option(
      '--max-connections <n>',
      'connections served at once at most (more are reset)',
      int('--max-connections', 1, 10_000_000),
    ),
).action(async (p: number, o) => {
  const modes = (['echo', 'http', 'discard'] as const).filter((m) => o[m]);
  if (modes.length > 1)
    throw new UsageError(
      `choose one of --echo, --http, --discard (got ${modes.map((m) => `--${m}`).join(' ')})`,
    );
  const mode: ServeMode = modes[0] ?? 'echo';
  if (o.httpBody !== undefined && mode !== 'http') throw new UsageError('--http-body needs --http');
  process.exitCode = await serveCommand(
    p,
    mode,
    { httpBody: o.httpBody, maxConnections: o.maxConnections },
    wireOpts(o),
    (s) => console.error(s),
  );
  process.exit();
});

program
  .command('web')
  .allowExcessArguments(false)
  .description(
    'serve the lab page (the engine running in your browser) on localhost and print its URL',
  )
  .option('--port <n>', 'port on 127.0.0.1 (default: any free one)', int('--port', 0, 65535), 0)
  .action(async (o) => {
    process.exitCode = await webCommand(
      o.port,
      (s) => console.log(s),
      (s) => console.error(s),
    );
  });

try {
  // `synack run SCENARIO --help`: that scenario, its description and options.
  const argv = process.argv.slice(2);
  const sc = argv[0] === 'run' && argv[1] ? findScenario(argv[1]) : undefined;
  if (argv[0] === '__kernel-replay') {
    // Internal: the kernel side of `script --kernel`, run inside its namespace.
    const { replayOnKernel } = await import('../node/kernelreplay.ts');
    const { readFileSync } = await import('node:fs');
    const plan = JSON.parse(readFileSync(0, 'utf8'));
    process.stdout.write(JSON.stringify(replayOnKernel(plan)));
  } else if (sc && argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    scenarioHelp(sc, (s) => console.log(s), Math.min(100, process.stdout.columns ?? 80));
  } else {
    await program.parseAsync();
  }
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError) {
    console.error(`synack: ${e.message}`);
    process.exitCode = 2;
  } else if (e instanceof RangeError || e instanceof TypeError) {
    // A value the library refused (a config out of range, an address it cannot parse).
    console.error(`synack: ${e.message}`);
    process.exitCode = 2;
  } else {
    // Never a stack trace for a user; SYNACK_DEBUG=1 shows it for a bug report.
    console.error(
      `synack: internal error: ${(e as Error).message ?? e} (SYNACK_DEBUG=1 shows where)`,
    );
    if (process.env.SYNACK_DEBUG) console.error(e);
    process.exitCode = 70;
  }
}
