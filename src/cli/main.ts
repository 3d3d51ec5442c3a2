#!/usr/bin/env node
// The `synack` command.

import { Command, CommanderError, Option } from 'commander';
import { profiles } from '../tcp/types.ts';
import { scriptCommand, UsageError } from './script.ts';
import { tourCommand } from './tour.ts';

const program = new Command();
program
  .name('synack')
  .description(
    'A TCP implementation built around connection establishment: run packet scripts and watch handshakes.',
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('script')
  .description('run packet scripts (packetdrill syntax) against the synack stack in virtual time')
  .argument('<file...>', '.pkt files or directories holding them')
  .option(
    '--lenient',
    'check flags, sequence/ack numbers and payload length only (not windows or option layout)',
  )
  .addOption(
    new Option('--profile <name>', 'what the stack puts in SYN and SYN,ACK').choices(
      Object.keys(profiles),
    ),
  )
  .option('-v, --verbose', 'list skipped shell lines')
  .addHelpText(
    'after',
    '\nOutput: one line per script (PASS/FAIL/SKIP), then "N passed, N failed, N skipped".\nExit status: 0 when all pass, 1 when any fails, 2 on a usage error.',
  )
  .action((files: string[], opts) => {
    process.exitCode = scriptCommand(files, opts, (s) => console.log(s));
  });

program
  .command('tour')
  .description(
    'run a complete handshake, a little data and a close between two stacks, and print each segment and state change',
  )
  .action(() => {
    process.exitCode = tourCommand((s) => console.log(s));
  });

try {
  program.parse();
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError) {
    console.error(`synack: ${e.message}`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
