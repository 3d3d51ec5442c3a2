import { describe, expect, it } from 'vitest';
import { openTun, TunError } from '../../src/link/tun.ts';

describe('TUN link errors are clear', () => {
  it('rejects a bad device name with what is accepted', () => {
    expect(() => openTun('this-name-is-far-too-long')).toThrow(TunError);
    expect(() => openTun('bad name')).toThrow(/1 to 15 letters, digits/);
  });
});
