// Spec reporter plus one plain closing line ("N passed, N failed, N skipped")
// that CI reads to know how many tests ran.
'use strict';
const Mocha = require('mocha');

class TesseraReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const s = runner.stats;
      process.stdout.write(`\ntests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}

module.exports = TesseraReporter;
