import * as React from 'react';

/** A titled section of the panel (its heading labels it). */
export function Section(props: { title: string; children: React.ReactNode; extra?: React.ReactNode }): JSX.Element {
  const id = `jp-Saturn-section-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section className="jp-Saturn-section" aria-labelledby={id}>
      <h3 id={id}>
        {props.title}
        {props.extra}
      </h3>
      {props.children}
    </section>
  );
}
