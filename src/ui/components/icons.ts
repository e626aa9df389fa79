import { LabIcon } from '@jupyterlab/ui-components';

const saturnSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="#616161">
    <circle cx="12" cy="12" r="5.2"/>
    <path d="M3.3 16.9c-1.1-1.9 1.9-5.2 6.8-8s9.5-3.7 10.6-1.8c.5.9 0 2.2-1.2 3.6l-.9-.8c.8-1 1.1-1.7.9-2.1-.6-1-4.4-.3-8.8 2.2s-7 5.5-6.4 6.5c.3.5 1.3.6 2.7.3l.3 1.2c-2 .4-3.5.2-4-.9z"/>
  </g>
</svg>`;

export const saturnIcon = new LabIcon({ name: 'jupyterlab-saturn:saturn', svgstr: saturnSvg });
