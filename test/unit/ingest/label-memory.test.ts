import { LabelMemory } from '../../../src/ingest/label-memory';

describe('LabelMemory', () => {
  it('learns name sets and values per alertname, most recent last, bounded', () => {
    // given a memory that keeps two name sets and two values per label
    const memory = new LabelMemory({ nameSetsPerAlert: 2, valuesPerLabel: 2 });
    // when three label sets of one alert arrive
    memory.learn({ alertname: 'A', instance: 'lb-1:9101', server: 'web1' });
    memory.learn({ alertname: 'A', instance: 'lb-1:9101', server: 'web2', cluster: 'eu' });
    memory.learn({ alertname: 'A', instance: 'lb-2:9101', server: 'web3', zone: 'z' });
    // then the oldest name set and value are forgotten
    expect(memory.nameSets('A')).toEqual([
      ['alertname', 'cluster', 'instance', 'server'],
      ['alertname', 'instance', 'server', 'zone'],
    ]);
    expect([...(memory.values('A', 'server') ?? [])]).toEqual(['web2', 'web3']);
    expect(memory.values('A', 'nosuch')).toBeUndefined();
    expect(memory.nameSets('B')).toEqual([]);
  });

  it('ignores a label set without alertname and keeps at most `alertnames` alerts', () => {
    const memory = new LabelMemory({ alertnames: 1 });
    memory.learn({ instance: 'x:1' });
    memory.learn({ alertname: 'A', job: 'j' });
    memory.learn({ alertname: 'B', job: 'j' });
    expect(memory.nameSets('A')).toEqual([]);
    expect(memory.nameSets('B')).toEqual([['alertname', 'job']]);
  });
});
