import * as React from 'react';
import { formatDelta, IEditResult } from '../../models/plan-model';

/** The outcome of the edit being previewed (a drag) or of the last one: the makespan change, or why it was refused. */
export function EditStatus(props: { preview: IEditResult | null; last: IEditResult | null }): JSX.Element {
  const r = props.preview ?? props.last;
  if (!r) {
    return <div className="jp-Saturn-editStatus" aria-live="polite" />;
  }
  const pending = props.preview !== null;
  const cls = r.ok ? 'jp-mod-ok' : 'jp-mod-conflict';
  return (
    <div
      className={`jp-Saturn-editStatus ${cls}`}
      role={r.ok ? 'status' : 'alert'}
      data-saturn-edit={r.ok ? 'ok' : 'rejected'}
      data-saturn-edit-pending={pending ? 'true' : 'false'}
    >
      {r.ok
        ? `${pending ? 'Drop to apply: ' : ''}${r.label} (makespan ${formatDelta(r.delta_s)})`
        : `${pending ? 'Cannot drop here' : 'Not applied'}${r.label ? ` (${r.label})` : ''}: ${r.reasons.join('; ')}`}
    </div>
  );
}
