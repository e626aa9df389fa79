import * as React from 'react';
import { Clipboard } from '@jupyterlab/apputils';

export const REGISTER_SNIPPET = `import saturn, torch

def model():
    return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4))

def data(batch_size):
    x, y = torch.randn(512, 32), torch.randint(0, 4, (512,))
    ds = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(ds, batch_size=batch_size)

saturn.register(saturn.Task("my-mlp", model=model, data=data, batch_size=32, epochs=2))`;

/** A code snippet with a Copy button. */
export function Snippet(props: { code: string; label: string }): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  return (
    <div className="jp-Saturn-snippet">
      <pre aria-label={props.label}>
        <code>{props.code}</code>
      </pre>
      <button
        className="jp-mod-styled jp-Saturn-copy"
        onClick={() => {
          Clipboard.copyToSystem(props.code);
          setCopied(true);
        }}
      >
        {copied ? 'Copied' : 'Copy snippet'}
      </button>
    </div>
  );
}
