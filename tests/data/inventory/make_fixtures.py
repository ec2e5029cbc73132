#!/usr/bin/env python3
"""Writes the inventory fixtures of tests/inventory.rs (see README.md here).

Run from this folder: `python3 make_fixtures.py`. Deterministic: the gzip
headers carry no time or name, so the MD5s in the manifests never change.
Parquet fixtures are made by the tests themselves (polars), as Python here
has no Parquet writer.
"""
import gzip, hashlib, json, os, shutil, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

# Keys as a store holds them: a case-folder layout, and hostile ones
# (comma, quote, newline, a formula, markup).
HOSTILE = [
    'case-2023-00007/bwv/cam-02/clip,"0001".mp4',
    'case-2023-00007/bwv/cam-02/clip\nnewline.mp4',
    '=HYPERLINK("http://x")/evil.mp4',
    'case-2023-00008/<script>alert(1)</script>.mp4',
    'case-2023-00008/bwv/cam 03/clip 0002+plus.mp4',
]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def gz(text):
    return gzip.compress(text.encode('utf-8'), mtime=0)


def s3_csv(rows):
    # S3 Inventory CSV: every field quoted, no header, keys URL-encoded as an
    # HTML form encodes them (space as +, / as %2F).
    out = []
    for r in rows:
        r = dict(r)
        r['Key'] = urllib.parse.quote_plus(r['Key'], safe='')
        out.append(','.join('"%s"' % r[c] for c in S3_SCHEMA))
    return '\n'.join(out) + '\n'


S3_SCHEMA = ['Bucket', 'Key', 'VersionId', 'IsLatest', 'IsDeleteMarker', 'Size',
             'LastModifiedDate', 'ETag', 'StorageClass']


def obj(key, size, version='v1', latest='true', marker='false', when='2023-07-01T10:00:00.000Z'):
    return {'Bucket': 'syp-bwv-evidence', 'Key': key, 'VersionId': version, 'IsLatest': latest,
            'IsDeleteMarker': marker, 'Size': str(size) if size is not None else '',
            'LastModifiedDate': when, 'ETag': hashlib.md5(key.encode()).hexdigest() if size is not None else '',
            'StorageClass': 'STANDARD' if size is not None else ''}


def s3_night(root, stamp, ms, parts):
    files = []
    for i, rows in enumerate(parts):
        key = 'inv/syp-bwv-evidence/daily/data/%s-%d.csv.gz' % (stamp, i)
        data = gz(s3_csv(rows))
        write(os.path.join(root, key), data)
        files.append({'key': key, 'size': len(data), 'MD5checksum': hashlib.md5(data).hexdigest()})
    manifest = {
        'sourceBucket': 'syp-bwv-evidence',
        'destinationBucket': 'arn:aws:s3:::syp-inventories',
        'version': '2016-11-30',
        'creationTimestamp': str(ms),
        'fileFormat': 'CSV',
        'fileSchema': ', '.join(S3_SCHEMA),
        'files': files,
    }
    text = json.dumps(manifest, indent=4).encode()
    mdir = os.path.join(root, 'inv/syp-bwv-evidence/daily', stamp)
    write(os.path.join(mdir, 'manifest.json'), text)
    write(os.path.join(mdir, 'manifest.checksum'), hashlib.md5(text).hexdigest().encode() + b'\n')


def s3():
    root = os.path.join(HERE, 's3')
    shutil.rmtree(root, ignore_errors=True)
    keep = [obj('case-2023-00001/bwv/cam-01/clip-0001.mp4', 1000),
            obj('case-2023-00001/bwv/cam-01/clip-0002.mp4', 2000)]
    lost = [obj('case-2023-00002/bwv/cam-05/clip-0001.mp4', 30000),
            obj('case-2023-00002/bwv/cam-05/clip-0002.mp4', 40000)]
    hostile = [obj(k, 500 + i) for i, k in enumerate(HOSTILE)]
    old_version = obj('case-2023-00001/bwv/cam-01/clip-0001.mp4', 999, version='v0', latest='false')
    marked = obj('case-2023-00003/bwv/cam-09/clip-0001.mp4', 7000)
    shrinks = obj('case-2023-00004/bwv/cam-01/clip-0001.mp4', 9000)
    before = keep + [old_version] + lost + hostile + [marked, shrinks]
    # two data files, as S3 writes a large inventory
    s3_night(root, '2023-07-25T00-00Z', 1690243200000, [before[:5], before[5:]])
    after = keep + [old_version,
                    obj('case-2023-00003/bwv/cam-09/clip-0001.mp4', None, version='v2', marker='true'),
                    dict(marked, IsLatest='false'),
                    obj('case-2023-00004/bwv/cam-01/clip-0001.mp4', 4000, version='v2'),
                    dict(shrinks, IsLatest='false'),
                    obj('case-2023-00009/bwv/cam-01/clip-0001.mp4', 123)]
    s3_night(root, '2023-07-26T00-00Z', 1690329600000, [after])


def azure():
    root = os.path.join(HERE, 'azure')
    shutil.rmtree(root, ignore_errors=True)
    header = ['Name', 'Creation-Time', 'Last-Modified', 'Content-Length', 'Content-MD5',
              'BlobType', 'AccessTier', 'Snapshot', 'IsCurrentVersion']

    def row(name, size, snap='', current='true'):
        return [name, '2021-07-01T09:00:00.0000000Z', '2021-07-01T09:00:00.0000000Z',
                str(size), 'd41d8cd98f00b204e9800998ecf8427e', 'BlockBlob', 'Cool', snap, current]

    def csv_text(rows):
        import csv, io
        s = io.StringIO()
        w = csv.writer(s, lineterminator='\n')
        w.writerow(header)
        w.writerows(rows)
        return s.getvalue().encode()

    def night(stamp, start, rows):
        rule = 'custody-daily'
        blob = '%s/%s/%s.csv' % (stamp, rule, rule)
        data = csv_text(rows)
        write(os.path.join(root, blob), data)
        manifest = {
            'destinationContainer': 'inventory',
            'endpoint': 'https://humbersidecustody.blob.core.windows.net',
            'files': [{'blob': blob, 'size': len(data)}],
            'inventoryCompletionTime': start.replace('T00:00:00', 'T00:41:07'),
            'inventoryStartTime': start,
            'ruleDefinition': {
                'filters': {'blobTypes': ['blockBlob'], 'includeBlobVersions': True,
                            'includeSnapshots': True, 'prefixMatch': ['custody/']},
                'format': 'csv', 'objectType': 'blob', 'schedule': 'daily',
                'schemaFields': header,
            },
            'ruleName': rule,
            'status': 'Succeeded',
            'summary': {'objectCount': len(rows), 'totalObjectSize': sum(int(r[3]) for r in rows)},
            'version': '1.0',
        }
        write(os.path.join(root, '%s/%s/%s-manifest.json' % (stamp, rule, rule)),
              json.dumps(manifest, indent=2).encode())

    keep = [row('custody/case-2021-00100/suite-1/record-0001.pdf', 100)]
    lost = [row('custody/case-2021-00101/suite-2/record-%04d.pdf' % i, 1000 + i) for i in range(3)]
    hostile = [row(k, 10) for k in HOSTILE[:3]]
    snap = row('custody/case-2021-00100/suite-1/record-0001.pdf', 90, snap='2021-07-20T10:00:00.0000000Z')
    old = row('custody/case-2021-00100/suite-1/record-0002.pdf', 77, current='false')
    night('2021/07/25/00-00-00', '2021-07-25T00:00:00Z', keep + lost + hostile + [snap, old])
    night('2021/07/27/00-00-00', '2021-07-27T00:00:00Z', keep + [snap])


def plain():
    root = os.path.join(HERE, 'plain')
    shutil.rmtree(root, ignore_errors=True)
    import csv, io

    def text(rows):
        s = io.StringIO()
        w = csv.writer(s, lineterminator='\n')
        w.writerow(['key', 'size', 'last_modified'])
        w.writerows(rows)
        return s.getvalue()

    before = [['nas/case-1/a.pdf', 10, '2023-01-01T00:00:00Z'],
              ['nas/case-1/b.pdf', 20, '2023-01-01T00:00:00Z'],
              ['nas/case-2/c.pdf', 30, '2023-01-02T00:00:00Z']]
    after = [['nas/case-1/a.pdf', 10, '2023-01-01T00:00:00Z']]
    write(os.path.join(root, 'listing-2023-03-01.csv'), text(before).encode())
    write(os.path.join(root, 'listing-2023-03-02.csv.gz'), gz(text(after)))
    write(os.path.join(root, 'no-key.csv'), b'name,size\nnas/a.pdf,10\n')


s3()
azure()
plain()
