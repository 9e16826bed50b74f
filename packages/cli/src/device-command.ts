import { runDeviceCli } from '@tessera/device';
import { Command } from 'commander';

/** `tessera device`: the device example (same options as tessera-device). */
export function deviceCommand(): Command {
  return new Command('device')
    .description('run the InfluxDB device example against a hub (options: --hub --influx-url --device-id --interval --ttl ...; see --help)')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[options...]')
    .action(async (args: string[]) => {
      process.exitCode = await runDeviceCli(args, { name: 'tessera device' });
    });
}
