import { runInfluxdbLocalCli } from '@tessera/influxdb-local';
import { Command } from 'commander';

/** `tessera influxdb-local`: the InfluxDB-v2-compatible development server (same options as tessera-influxdb-local). */
export function influxdbLocalCommand(): Command {
  return new Command('influxdb-local')
    .description('run an InfluxDB-v2-compatible server for development (options: --port --host --org --bucket --token --persist --access-log; see --help)')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[options...]')
    .action(async (args: string[]) => {
      process.exitCode = await runInfluxdbLocalCli(args);
    });
}
