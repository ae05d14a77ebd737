/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  // The loopback sshd and haproxy, started once for the run (skipped with a reason when not installed).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Files run in parallel workers (three on the 2-core CI machine: most files wait on sockets and processes, not the
  // CPU; four was slower there); those that change a shared part of the test hosts (the shared haproxy, the spare
  // sshd) take turns on it through locks, listed in test/support/suite-parts.ts.
  setupFilesAfterEnv: ['<rootDir>/test/support/suite-parts-setup.ts'],
  // …and alternate in Jest's order with the files that take no lock, so a worker seldom waits behind one.
  testSequencer: '<rootDir>/test/support/sequencer.js',
};
