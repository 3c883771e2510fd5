#!/usr/bin/env node
// The `chat-admin` command (src/cli.ts, built into dist/ by `npm run build`). A file of its own so that
// npm links the command at install time, before the build has made dist/.
import '../dist/cli.js';
