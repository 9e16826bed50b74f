// The Witness of the child-process tests of secure hubs: everything the
// processes of one test printed, and every secret the test made or saw; its
// scan() fails naming each process that printed one of them.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Finished, Running } from './cli-helpers.js';

export interface LeaseJson {
  id: string;
  value: string;
}

/** Everything the processes of one test printed, and every secret it knows of: none may appear in the first. */
export class Witness {
  private readonly printed: { what: string; text: () => string }[] = [];
  private readonly secrets = new Map<string, string>();

  /** A finished command's output. */
  ran(what: string, finished: Finished): Finished {
    this.printed.push({ what, text: () => finished.stdout + finished.stderr });
    return finished;
  }

  /** A command whose stdout is the secret it was asked for (a token, a lease answer): its stderr only. */
  answered(what: string, finished: Finished): Finished {
    this.printed.push({ what: `${what} (stderr)`, text: () => finished.stderr });
    return finished;
  }

  /** A running process: its output as it is when the scan runs. */
  started(what: string, running: Running): Running {
    this.printed.push({ what, text: () => running.stdout() + running.stderr() });
    return running;
  }

  secret(what: string, value: string): void {
    expect(value.length, what).to.be.at.least(16);
    this.secrets.set(value, what);
  }

  /** The private key of an identity file (the JSON's private_key). */
  identityFile(what: string, file: string): void {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { private_key: string };
    this.secret(`${what}'s private key`, json.private_key);
  }

  /** Every lease value in a `tessera lease get|list --identity admin` answer (an API answer that is meant to show them: not scanned). */
  leaseAnswer(answer: Finished): LeaseJson[] {
    expect(answer.code, answer.stderr).to.equal(0);
    const json = JSON.parse(answer.stdout) as { lease?: LeaseJson; leases?: LeaseJson[] };
    const leases = json.leases ?? (json.lease ? [json.lease] : []);
    for (const l of leases) this.secret(`the value of lease ${l.id}`, l.value);
    return leases;
  }

  /** Fails naming each process that printed a secret, and which. */
  scan(): void {
    expect(this.secrets.size).to.be.greaterThan(0);
    const leaks: string[] = [];
    for (const { what, text } of this.printed) {
      const output = text();
      for (const [secret, which] of this.secrets) if (output.includes(secret)) leaks.push(`${what} printed ${which}`);
    }
    expect(leaks).to.deep.equal([]);
  }
}
