import { describe, expect, it } from '@jest/globals';
import * as vrrp from '../src/index.js';

describe('workspace', () => {
  it('loads the package entry', () => {
    expect(typeof vrrp).toBe('object');
  });
});
