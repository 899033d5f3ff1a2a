#!/usr/bin/env node
// The `longhaul` command: runs the TypeScript client through tsx (no build step needed).
require('tsx/cjs');
require('../src/client.ts');
