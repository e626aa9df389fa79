import * as React from 'react';
import { act } from 'react';
import { Signal } from '@lumino/signaling';
import { useSignal } from '../components/use-signal';
import { render } from './render';

describe('useSignal', () => {
  it('shows a change that happened after the first render but before the component subscribed', () => {
    // e.g. the panel is first rendered with the tasks loaded, and the stored profile arrives before React has run
    // the effect that subscribes the panel to the model's signal: nothing fires after that
    const owner = {};
    const changed = new Signal<object, void>(owner);
    const store = { value: 'tasks only' };
    function View(): React.ReactElement {
      useSignal(changed);
      // after the first render is committed, before the passive effects run (where useSignal subscribes)
      React.useLayoutEffect(() => {
        store.value = 'tasks and profile';
        changed.emit(undefined);
      }, []);
      return <span>{store.value}</span>;
    }
    const r = render(<View />);
    expect(r.container.textContent).toBe('tasks and profile');
    // later emissions still re-render
    store.value = 'a plan';
    act(() => changed.emit(undefined));
    expect(r.container.textContent).toBe('a plan');
    r.unmount();
  });
});
