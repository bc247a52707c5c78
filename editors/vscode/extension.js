// The qpipe extension: the grammar and language configuration are
// declared in package.json; this file starts `qpipe lsp` for diagnostics,
// hover, completion, go-to-definition, symbols and formatting.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('qpipe').get('path', 'qpipe');
  const serverOptions = { command, args: ['lsp'] };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'qpipe' }, { scheme: 'untitled', language: 'qpipe' }],
  };
  client = new LanguageClient('qpipe', 'qpipe language server', serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
