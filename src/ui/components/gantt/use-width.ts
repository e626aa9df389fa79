import * as React from 'react';

/** The width of `ref`'s element, followed as it resizes (800 px until measured). */
export function useWidth(ref: React.RefObject<HTMLElement>): number {
  const [w, setW] = React.useState(800);
  React.useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') {
      return;
    }
    const ro = new ResizeObserver(() => setW(Math.max(300, el.clientWidth)));
    ro.observe(el);
    setW(Math.max(300, el.clientWidth || 800));
    return () => ro.disconnect();
  }, [ref.current]);
  return w;
}
