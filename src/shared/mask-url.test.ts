import { describe, expect, it } from 'vitest';
import { maskUrl } from './mask-url.js';

describe('maskUrl', () => {
  it('masks the password and keeps the rest', () => {
    expect(maskUrl('http://kappa:S3cret@registry:8081')).toBe('http://kappa:***@registry:8081');
    expect(maskUrl('mysql://root:S3cret@127.0.0.1:3306/kappa')).toBe('mysql://root:***@127.0.0.1:3306/kappa');
  });

  it('leaves URLs without a password and non-URLs alone', () => {
    expect(maskUrl('http://127.0.0.1:8081')).toBe('http://127.0.0.1:8081');
    expect(maskUrl('http://127.0.0.1:8081/')).toBe('http://127.0.0.1:8081/');
    expect(maskUrl('not a url')).toBe('not a url');
  });
});
