import * as fs from 'fs';
import * as path from 'path';
import { canTransition, IllegalTransitionError, isFinal, JOB_STATES, JobState, transition, TRANSITIONS } from '../job-state';

describe('job state machine', () => {
  it('allows the documented life cycle', () => {
    const path_: JobState[] = [
      JobState.Pending,
      JobState.Waiting,
      JobState.Running,
      JobState.Checkpointing,
      JobState.Running,
      JobState.Checkpointing,
      JobState.Preempted,
      JobState.Resumed,
      JobState.Running,
      JobState.Failed,
      JobState.Waiting,
      JobState.Running,
      JobState.Done
    ];
    for (let i = 1; i < path_.length; i++) {
      expect(transition(path_[i - 1], path_[i])).toBe(path_[i]);
    }
  });

  it('throws on illegal transitions, naming both states', () => {
    expect(() => transition(JobState.Done, JobState.Running)).toThrow(IllegalTransitionError);
    expect(() => transition(JobState.Pending, JobState.Running)).toThrow(/from pending to running/);
    expect(() => transition(JobState.Preempted, JobState.Running)).toThrow(/resumed/);
    expect(() => transition('exploded', JobState.Running)).toThrow(IllegalTransitionError);
    expect(canTransition(JobState.Cancelled, JobState.Pending)).toBe(false);
  });

  it('has final states that lead nowhere and lets every other state be cancelled', () => {
    for (const s of JOB_STATES) {
      if (isFinal(s)) {
        expect(TRANSITIONS[s]).toEqual([]);
      } else {
        expect(canTransition(s, JobState.Cancelled)).toBe(true);
      }
    }
  });

  it('is the table of the wire schema, which the Python store reads too (schema/wire/bridge.schema.json)', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../schema/wire/bridge.schema.json'), 'utf8'));
    expect(schema.definitions.job_state.enum).toEqual([...JOB_STATES]);
    expect(schema.job_transitions).toEqual(Object.fromEntries(Object.entries(TRANSITIONS).map(([k, v]) => [k, [...v]])));
  });
});
