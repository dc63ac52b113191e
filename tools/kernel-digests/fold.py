"""Folds the per-combination digests main.swift prints into the per-shape digests of KernelDigestTests."""
import sys
d={}
for l in open(sys.argv[1]):
    if l.startswith('DIGEST '):
        parts=l.split(); d[' '.join(parts[1:-1])]=int(parts[-1])
shapes=[(1, 37, 300), (2, 33, 13), (6, 16, 256), (7, 17, 257), (13, 70, 65), (32, 1024, 40), (41, 50, 300),(97, 40, 20), (150, 130, 513), (200, 90, 7)]
M=2**64
for dt in ['float32','float64']:
    for (m,n,k) in shapes:
        h=0xcbf29ce484222325
        for ta in 'nt':
            for tb in 'nt':
                for acc in ['',' acc']:
                    v=d[f'{dt} {m}x{n}x{k} {ta}{tb}{acc}']
                    h=((h^v)*0x100000001b3)%M
        print(f'        "{dt} {m}x{n}x{k}": 0x{h:016x},')
