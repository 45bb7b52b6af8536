import { describe, expect, it } from 'vitest';
import { artifact } from '../../test/fixtures';
import { Attributes, parseTags, sourceLabel } from './attributes.svelte';

describe('Image attributes', () => {
  it('an import sends only what was given; the engine defaults the rest (owner: the OS user)', () => {
    const f = new Attributes();
    expect(f.importPatch()).toEqual({ name: null, description: null, version: null, tags: null, alias: null, access: 'private', owner: null, resize: null, deploy: null });
    expect(f.changed).toBe(false);
    f.alias = ' rocky9 ';
    f.access = 'public';
    f.owner = 'ops';
    f.version = ' 9.4 ';
    f.tags = 'lab, rocky, lab,';
    f.deploy = true;
    expect(f.importPatch()).toMatchObject({ alias: 'rocky9', access: 'public', owner: 'ops', version: '9.4', tags: ['lab', 'rocky'], resize: null, deploy: true });
    expect(f.summary).toBe('alias rocky9 · Public · owner ops · version 9.4 · #lab #rocky · deploy');
  });

  it('an edit sends only the fields that changed; an emptied alias removes it, an emptied owner is left', () => {
    const a = artifact(1, { alias: 'deb', access: 'private', owner: 'admin', tags: ['x'], version: '12', resize: false, deploy: true });
    const f = Attributes.of(a);
    expect(f.editPatch(a)).toEqual({ name: null, description: null, version: null, tags: null, alias: null, access: null, owner: null, resize: null, deploy: null });
    f.alias = '';
    f.owner = '';
    f.access = 'deleted';
    f.resize = true;
    f.deploy = false;
    f.tags = 'x, y';
    expect(f.editPatch(a)).toMatchObject({ alias: '', owner: null, access: 'deleted', resize: true, deploy: false, tags: ['x', 'y'], version: null });
  });

  it('"Apply to all" copies everything but the alias', () => {
    const from = new Attributes();
    from.alias = 'one';
    from.access = 'public';
    from.owner = 'ops';
    from.resize = true;
    const to = new Attributes();
    to.copyFrom(from);
    expect([to.alias, to.access, to.owner, to.resize]).toEqual(['', 'public', 'ops', true]);
  });

  it('says where an artifact came from', () => {
    expect(sourceLabel({ kind: 'file', url: null, manifest_url: null, store: null, remote_id: null }, 'x.iso')).toEqual({ what: 'A local file', detail: 'x.iso' });
    expect(sourceLabel({ kind: 'url', url: 'https://m.example/x.iso', manifest_url: null, store: null, remote_id: null }, 'x.iso'))
      .toEqual({ what: 'Downloaded from a URL', detail: 'https://m.example/x.iso' });
    expect(sourceLabel({ kind: 'store', url: null, manifest_url: null, store: 'danube', remote_id: 'c1a8' }, 'x.iso'))
      .toEqual({ what: 'Imported from image store danube', detail: 'c1a8' });
    expect(parseTags(' a, ,b , a')).toEqual(['a', 'b']);
  });
});
