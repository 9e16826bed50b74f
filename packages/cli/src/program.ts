import { Command } from 'commander';
import { consoleCommand } from './console-command.js';
import { demoCommand } from './demo/demo-command.js';
import { deviceCommand } from './device-command.js';
import { enrollCommand } from './enroll-command.js';
import { hubCommand } from './hub-command.js';
import { identityCommand } from './identity-command.js';
import { influxdbLocalCommand } from './influxdb-local-command.js';
import { leaseCommand } from './lease-command.js';
import { nodeCommand } from './node-command.js';
import { relayCommand } from './relay-command.js';

/** The `tessera` command line. */
export function program(): Command {
  return new Command('tessera')
    .description('Tessera: an actor-style message-passing runtime and token lease service')
    .version('0.1.0')
    .addCommand(nodeCommand())
    .addCommand(identityCommand())
    .addCommand(hubCommand())
    .addCommand(leaseCommand())
    .addCommand(enrollCommand())
    .addCommand(influxdbLocalCommand())
    .addCommand(deviceCommand())
    .addCommand(relayCommand())
    .addCommand(consoleCommand())
    .addCommand(demoCommand());
}
