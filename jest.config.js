const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

const esModules = [
  '@codemirror',
  '@jupyter/ydoc',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@microsoft',
  'exenv-es6',
  '@jupyterlab/',
  'lib0',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const base = jestJupyterLab(__dirname);

module.exports = {
  ...base,
  testRegex: 'src/.*/.*\\.spec\\.tsx?$',
  transformIgnorePatterns: [`/node_modules/(?!(${esModules})).+`],
  modulePathIgnorePatterns: ['<rootDir>/python_bridge/saturn/labextension', '<rootDir>/ui-tests', '<rootDir>/.venv', '<rootDir>/lib', '<rootDir>/lib-node', '<rootDir>/dist']
};
