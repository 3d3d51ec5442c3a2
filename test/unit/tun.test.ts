import { describe, expect, it } from 'vitest';
import { openTun, TunError } from '../../src/link/tun.ts';

describe('TUN link errors are clear', () => {
  it('rejects a bad device name with what is accepted', () => {
    expect(() => openTun('this-name-is-far-too-long')).toThrow(TunError);
    expect(() => openTun('bad name')).toThrow(/1 to 15 letters, digits/);
  });

  it.runIf(process.platform === 'linux' && process.getuid?.() !== 0)(
    'without root it says which privilege is missing',
    () => {
      expect(() => openTun('synacktest0')).toThrow(/root or CAP_NET_ADMIN|does not exist/);
    },
  );
});
