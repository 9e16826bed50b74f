import { Command } from 'commander';
import { nodeCommand } from './node-command.js';

/** The `tessera` command line. */
export function program(): Command {
  return new Command('tessera')
    .description('Tessera: an actor-style message-passing runtime and token lease service')
    .version('0.1.0')
    .addCommand(nodeCommand());
}
