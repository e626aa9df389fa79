// Merged by @jupyter/builder into the prebuilt extension's rspack config.
// HiGHS (WebAssembly) runs in a Web Worker: its `node:` imports are dead code in a browser, so the
// scheme is stripped and the Node built-ins resolve to nothing.
const path = require('path');
const rspack = require('@rspack/core');

module.exports = {
  plugins: [
    new rspack.NormalModuleReplacementPlugin(/^node:/, resource => {
      resource.request = resource.request.replace(/^node:/, '');
    })
  ],
  resolve: {
    fallback: { module: false, fs: false, path: false, url: false, crypto: false }
  },
  module: {
    rules: [
      {
        test: /[\\/]highs[\\/]build[\\/]highs\.mjs$/,
        use: [path.resolve(__dirname, 'scripts', 'highs-import-meta-loader.js')]
      }
    ]
  }
};
