import * as React from 'react';
import { ISignal } from '@lumino/signaling';

/** Re-render whenever `signal` fires. */
export function useSignal(signal: ISignal<any, any> | null | undefined): number {
  const [tick, setTick] = React.useState(0);
  React.useEffect(() => {
    if (!signal) {
      return;
    }
    const bump = (): void => setTick(t => t + 1);
    signal.connect(bump);
    return () => {
      signal.disconnect(bump);
    };
  }, [signal]);
  return tick;
}
