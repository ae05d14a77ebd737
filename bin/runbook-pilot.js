#!/usr/bin/env node
// The package's `runbook-pilot` command. In a checkout with its dev dependencies (after `npm ci`), it runs the
// TypeScript source through ts-node, so it is never older than the code beside it; in an install without them (the
// Docker image, `npm ci --omit=dev`), it runs the compiled dist/ of `npm run build`.

const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'src', 'cli.ts');
const built = join(root, 'dist', 'cli.js');

function hasTsNode() {
  try {
    require.resolve('ts-node', { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && hasTsNode()) {
  require(require.resolve('ts-node', { paths: [root] })).register({
    transpileOnly: true,
    project: join(root, 'tsconfig.json'),
  });
  require(source);
} else if (existsSync(built)) {
  require(built);
} else {
  process.stderr.write(
    'runbook-pilot: neither ts-node nor a build was found: run `npm ci` (and `npm run build` for dist/) in the repository first\n',
  );
  process.exit(2);
}
