// highs' ES build reads `import.meta.url` for Node-only paths; rspack would bake the build
// machine's file:// path into the shipped chunk. In a worker the script's own URL is right.
module.exports = source =>
  source
    .replace('createRequire(import.meta.url)', 'createRequire(globalThis.location.href)')
    .replace('_scriptName=import.meta.url', '_scriptName=globalThis.location.href');
