// Entry of the host page. It has no static imports: module federation needs an async boundary
// before any shared module is used, and prebuilt extensions must join the share scope first.

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = url;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.appendChild(script);
  });
}

async function start() {
  const config = JSON.parse(document.getElementById('jupyter-config-data').textContent);
  // eslint-disable-next-line no-undef
  __webpack_public_path__ = config.fullStaticUrl + '/';
  const federated = config.federated_extensions || [];
  const base = config.fullLabextensionsUrl;
  const loaded = await Promise.allSettled(
    federated.map(ext => loadScript(`${base}/${ext.name}/${ext.load}`))
  );
  // eslint-disable-next-line no-undef
  await __webpack_init_sharing__('default');
  const ready = [];
  for (let i = 0; i < federated.length; i++) {
    if (loaded[i].status !== 'fulfilled') {
      console.error(loaded[i].reason);
      continue;
    }
    const container = window._JUPYTERLAB[federated[i].name];
    // eslint-disable-next-line no-undef
    await container.init(__webpack_share_scopes__.default);
    ready.push(federated[i]);
  }
  const { main } = await import('./main');
  await main(ready);
}

window.addEventListener('load', () => {
  start().catch(err => {
    console.error(err);
    document.body.textContent = `JupyterLab failed to start: ${err}`;
  });
});
