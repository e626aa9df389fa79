import * as React from 'react';
import { ISignal } from '@lumino/signaling';

/**
 * Re-render whenever `signal` fires. The component subscribes only after its first render has been committed (an
 * effect), so it renders once more on subscribing: whatever changed in between (e.g. the plan store's load finishing
 * while a panel was first shown) would otherwise stay off screen until the next emission, which may never come.
 */
export function useSignal(signal: ISignal<any, any> | null | undefined): number {
  const [tick, setTick] = React.useState(0);
  React.useEffect(() => {
    if (!signal) {
      return;
    }
    const bump = (): void => setTick(t => t + 1);
    signal.connect(bump);
    bump();
    return () => {
      signal.disconnect(bump);
    };
  }, [signal]);
  return tick;
}
