// The reliability suite at CI size (docs/reliability.md): every scenario of
// reliability/scenarios/, each in a process of its own through the same runner as
// `npm run test:reliability -- --size ci`, every figure keeping its bound.
import { expect } from 'chai';
import { describeFailures, listScenarios, runScenario } from '../runner.js';

const scenarios = await listScenarios();

describe('reliability suite at CI size', function () {
  // a scenario bounds its own waits; the runner kills one that runs past 5 minutes
  this.timeout(6 * 60_000);

  for (const entry of scenarios) {
    it(`${entry.name}: every figure keeps its bound`, async () => {
      const run = await runScenario(entry, 'ci');
      const failures = describeFailures(run.figures);
      expect(failures, `${failures}\n--- the end of what ${entry.name}'s process printed:\n${run.stderrTail}`).to.equal('');
      expect(run.finished, `${entry.name} did not finish:\n${run.stderrTail}`).to.equal(true);
      expect(run.figures.some((f) => f.scenario === entry.name), `${entry.name} printed no figure of its own`).to.equal(true);
    });
  }
});
