#!/usr/bin/env python3
"""Port of the HealthSamurai tx-benchmark (round 0) to a synthetic SNOMED CT release made by gen_rf2.py.

    python3 txbench.py --base http://127.0.0.1:8799/fhir --meta RELEASE/meta.json --server-pid PID \
        [--duration 10] [--warmup 3] [--vus 1,10,50] [--tests LK01,VC01] [--out txbench.json] [--md txbench.md]

Standard library only. Same request shapes as the k6 scripts of tx-benchmark (k6/<group>/<id>.js and
k6/lib/fhir.js): GET for $lookup / $validate-code / $subsumes / $translate / implicit-VS $expand, POST of a
Parameters resource (ad-hoc ValueSet) for EX02, EX05, EX06, EX07 and EX08. Pools have the same sizes and shapes
as the published ones, drawn from the RF2 files beside meta.json (real SNOMED codes do not exist in the synthetic
release: each pool is redrawn from it, same size and shape). Tests whose data is absent (LOINC, RxNorm, VSAC,
FHIR packages) run on substitutes where the server has another code system loaded, and are flagged.

Load: a closed loop per virtual user (VU), no think time, one keep-alive HTTP/1.1 connection per VU, as k6 does.
For each test: a warm-up of --warmup s at 10 VUs on the test's own pool (discarded), then --duration s at each VU
level. Reported like the published table (scripts/lib/scoring.ts): rps = max over the VU levels of
throughput x (1 - error rate), p50 at 1 VU; plus p99 at that level. With --server-pid, each level also records
the server's CPU time per request (server_cpu_us, the server process and its workers: robust to other load on
the machine, which shifts requests/s); with --server-pid, the tool waits for the
server process to be idle before the first test, after each warm-up, between levels and after each test: requests
abandoned at the time-out keep running in a thread-pool server and would otherwise skew the next measurement.
Also measured: trivial endpoints (--ceiling, default /health and /fhir/metadata) as the ceiling of the setup.
An error is any status other than the expected one, a transport failure or time-out, or a wrong answer
($validate-code result false, wrong $subsumes outcome, $translate result false, an expansion without the
expected contents, a $lookup display other than the US preferred term...).

Safety: only loopback targets are accepted; every loop stops at its deadline (plus at most --timeout s for
requests in flight).
"""
from __future__ import annotations

import argparse
import asyncio
import glob
import ipaddress
import json
import math
import os
import random
import socket
import statistics
import sys
import time
import urllib.parse
from collections import Counter, defaultdict

SCT = 'http://snomed.info/sct'
ISA = '116680003'
ROOT = '138875005'
US_REFSET = '900000000000509007'
PREFERRED = '900000000000548007'
SYN_TYPE = '900000000000013009'
FSN_TYPE = '900000000000003001'
REPLACED_BY = '900000000000526001'
ICD10_MAP = '447562003'
ICD10 = 'http://hl7.org/fhir/sid/icd-10'
FINDING_SITE, ASSOC_MORPH, CAUSATIVE_AGENT, METHOD = '363698007', '116676008', '246075003', '260686004'
# real attribute types used by the published pools that the synthetic release does not have -> stand-ins
ATTR_STANDIN = {'127489000': CAUSATIVE_AGENT,   # has active ingredient
                '411116001': METHOD,            # has manufactured dose form
                '405813007': FINDING_SITE}      # procedure site - direct
META_TOP = '900000000000441003'

# The 141 filter terms of k6/pools/snomed/filter-terms.json (EX03), used verbatim.
EX03_TERMS = (
    'a d h m p s di he ca ne ar ma hy in br th dia hep car neu art mal hyp inf bra thr diab hepa card neur arth '
    'hypo infa bron diabe hepat cardi neuro arthr hyper infec bronc diabetes hepatitis cardiac neurology '
    'arthritis hypertension infection bronchitis disease disorder syndrome repair fracture injury laceration '
    'hemorrhage thrombosis embolism infarction carcinoma melanoma lymphoma leukemia sarcoma pneumonia meningitis '
    'encephalitis septicemia endocarditis appendicitis cholecystitis pancreatitis peritonitis osteoporosis '
    'osteonecrosis osteomyelitis asthma epilepsy migraine glaucoma cataract eczema psoriasis urticaria '
    'dermatitis anemia tachycardia bradycardia angina fibrillation thyroid nephropathy neuropathy retinopathy '
    'staphylococcus streptococcus salmonella clostridium coronavirus influenza tuberculosis malaria catheter '
    'stent prosthesis implant graft rehabilitation physiotherapy dialysis transplant systolic diastolic '
    'hemolytic instability conduit predominantly carbapenem citrobacter brivaracetam hidradenocarcinoma '
    'mastalgia drotaverine econazole acetaminophen amoxicillin ibuprofen metformin insulin warfarin aspirin '
    'lisinopril atorvastatin omeprazole methotrexate prednisone cyclosporine vancomycin ciprofloxacin').split()

# EX01 (k6/pools/snomed/snomed-expand.json): (count, offset) combinations per hierarchy class, as published:
# 60 'large' concepts x 96 combos, 20 'mid' x 35, 20 'small' x 4-8.
EX01_LARGE = [(c, o) for c in (1, 10, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000)
              for o in (0, 10, 50, 100, 200, 300, 400, 500)]
EX01_MID = [(c, o) for c in (1, 10, 100, 200, 300, 400, 500) for o in (0, 10, 50, 100, 200)]
EX01_SMALL = [[(1, 0), (1, 10), (10, 0), (10, 10)],
              [(1, 0), (1, 10), (10, 0), (10, 10), (50, 0), (50, 10), (100, 0), (100, 10)],
              [(1, 0), (1, 10), (10, 0), (10, 10), (50, 0), (50, 10)]]


# ------------------------------------------------------------------------------------------------------------
# RF2 reading and pool construction
# ------------------------------------------------------------------------------------------------------------
def _rows(path):
    with open(path, encoding='utf-8') as f:
        next(f)
        for line in f:
            yield line.rstrip('\r\n').split('\t')


def _one(release, pattern):
    hits = sorted(glob.glob(os.path.join(release, 'Snapshot', pattern)))
    return hits[0] if hits else None


class Release:
    """What the pools need from an RF2 Snapshot: active concepts, the active inferred is-a graph, active
    attribute relationships, US preferred terms, REPLACED BY associations, ICD-10 map targets, simple refsets."""

    def __init__(self, release_dir, log):
        t0 = time.time()
        self.active = []
        for r in _rows(_one(release_dir, 'Terminology/sct2_Concept_Snapshot_*.txt')):
            if r[2] == '1':
                self.active.append(r[0])
        self.parents = defaultdict(list)
        self.children = defaultdict(list)
        self.attrs = defaultdict(list)       # source -> [(type, destination)]
        for r in _rows(_one(release_dir, 'Terminology/sct2_Relationship_Snapshot_*.txt')):
            if r[2] != '1':
                continue
            if r[7] == ISA:
                self.parents[r[4]].append(r[5])
                self.children[r[5]].append(r[4])
            else:
                self.attrs[r[4]].append((r[7], r[5]))
        log('  relationships read (%.0f s)' % (time.time() - t0))
        pref_ids = set()
        for r in _rows(_one(release_dir, 'Refset/Language/der2_cRefset_LanguageSnapshot-en_*.txt')):
            if r[2] == '1' and r[4] == US_REFSET and r[6] == PREFERRED:
                pref_ids.add(r[5])
        self.pref = {}
        self.fsn = {}
        for r in _rows(_one(release_dir, 'Terminology/sct2_Description_Snapshot-en_*.txt')):
            if r[2] == '1' and r[0] in pref_ids:
                if r[6] == SYN_TYPE:
                    self.pref[r[4]] = r[7]
                elif r[6] == FSN_TYPE:
                    self.fsn[r[4]] = r[7]
        del pref_ids
        log('  descriptions read (%.0f s)' % (time.time() - t0))
        self.replaced = {}
        p = _one(release_dir, 'Refset/Content/der2_cRefset_AssociationSnapshot_*.txt')
        for r in (_rows(p) if p else ()):
            if r[2] == '1' and r[4] == REPLACED_BY:
                self.replaced[r[5]] = r[6]
        self.mapped = {}
        p = _one(release_dir, 'Refset/Map/der2_iisssccRefset_ExtendedMapSnapshot_*.txt')
        for r in (_rows(p) if p else ()):
            if r[2] == '1' and r[4] == ICD10_MAP and r[10] and r[5] not in self.mapped:
                self.mapped[r[5]] = r[10]
        self.simple = defaultdict(list)
        p = _one(release_dir, 'Refset/Content/der2_Refset_SimpleSnapshot_*.txt')
        for r in (_rows(p) if p else ()):
            if r[2] == '1':
                self.simple[r[4]].append(r[5])
        self.top = {}
        for t in self.children.get(ROOT, []):
            self.top[t] = t
        log('  RF2 read: %d active concepts (%.0f s)' % (len(self.active), time.time() - t0))
        self._dc = {}

    def ancestors(self, c):
        seen, stack = set(), list(self.parents.get(c, ()))
        while stack:
            x = stack.pop()
            if x not in seen:
                seen.add(x)
                stack.extend(self.parents.get(x, ()))
        return seen

    def descendants(self, c, cap=None):
        seen, stack = set(), list(self.children.get(c, ()))
        while stack:
            x = stack.pop()
            if x not in seen:
                seen.add(x)
                if cap and len(seen) > cap:
                    break
                stack.extend(self.children.get(x, ()))
        return seen

    def desc_count(self, c):
        if c not in self._dc:
            self._dc[c] = len(self.descendants(c))
        return self._dc[c]

    def depth(self, c):
        d = 0
        while c != ROOT and self.parents.get(c):
            c = self.parents[c][0]
            d += 1
        return d

    def hierarchy(self, c):
        while True:
            ps = self.parents.get(c)
            if not ps:
                return c
            if ps[0] == ROOT:
                return c
            c = ps[0]


def pick_by_size(rel, rng, cands, targets, used):
    """For each target descendant count, the unused candidate whose count is nearest (log scale)."""
    out = []
    for t in targets:
        best = min((c for c in cands if c not in used and rel.desc_count(c) > 0),
                   key=lambda c: abs(math.log(rel.desc_count(c)) - math.log(t)))
        used.add(best)
        out.append(best)
    return out


def log_targets(lo, hi, n):
    return [lo * (hi / lo) ** (i / max(1, n - 1)) for i in range(n)]


def build_pools(rel, meta, seed, log):
    rng = random.Random('txbench/%s' % seed)
    meta_h = set(rel.descendants(META_TOP)) | {META_TOP}
    clinical = [c for c in rel.active if c != ROOT and c not in meta_h]
    P = {}
    # ---- LK01 / LK05 / VC01 / VC02: 2000 random active concepts --------------------------------------------
    codes = rng.sample(clinical, min(2000, len(clinical)))
    P['codes'] = [{'code': c, 'display': rel.pref.get(c)} for c in codes]
    P['nonexistent'] = ['9999' + c for c in codes]       # as codes-nonexistent.json: real code prefixed by 9999
    # ---- size table (descendant counts) for the hierarchy-sized pools ----------------------------------------
    inner = [c for c in clinical if rel.children.get(c)]
    sample = rng.sample(inner, min(6000, len(inner)))
    fixed_hubs = [k.split('|')[0] for k in meta['shape']['descendant_counts_fixed']]
    for c in sample + fixed_hubs:
        rel.desc_count(c)
    cands = [c for c in sample if rel.desc_count(c) > 0]
    log('  descendant counts for %d candidates' % len(cands))
    used = set()
    # ---- EX01: 60 large / 20 mid / 20 small is-a hierarchies, published count x offset combos ----------------
    large = ['404684003', '71388002', '123037004', '410607006', '105590001', '373873005', '260787004',
             '362981000', '363787002', '64572001']  # real top-level / hub ids that the generator keeps
    used.update(large)
    large += pick_by_size(rel, rng, cands + fixed_hubs, log_targets(1500, 60000, 50), used)
    mid = pick_by_size(rel, rng, cands, log_targets(200, 1500, 20), used)
    small = pick_by_size(rel, rng, cands, log_targets(5, 100, 20), used)
    ex01 = []
    for c in large:
        ex01 += [{'concept': c, 'count': n, 'offset': o, 'total': rel.desc_count(c) + 1} for n, o in EX01_LARGE]
    for c in mid:
        ex01 += [{'concept': c, 'count': n, 'offset': o, 'total': rel.desc_count(c) + 1} for n, o in EX01_MID]
    for i, c in enumerate(small):
        ex01 += [{'concept': c, 'count': n, 'offset': o, 'total': rel.desc_count(c) + 1}
                 for n, o in EX01_SMALL[i % 3]]
    P['EX01'] = ex01
    P['EX01_sizes'] = {'large': sorted(rel.desc_count(c) for c in large),
                       'mid': sorted(rel.desc_count(c) for c in mid),
                       'small': sorted(rel.desc_count(c) for c in small)}
    # ---- VC03: is-a membership, published mix of hierarchies (real ids kept where the generator keeps them) ---
    vc03_spec = [('404684003', 500), ('71388002', 400), (('~', 4000), 250), ('410607006', 250),
                 ('123037004', 200), (('~', 3000), 200), (('~', 300), 20), (('~', 40), 5), (('~', 20), 4),
                 (('~', 8), 2)]
    vc03, vc03_map = [], {}
    for vs, n in vc03_spec:
        c = vs if isinstance(vs, str) else pick_by_size(rel, rng, cands, [vs[1]], used)[0]
        vc03_map[str(vs)] = {'concept': c, 'descendants': rel.desc_count(c)}
        members = sorted(rel.descendants(c))
        for _ in range(n):
            vc03.append({'valueSetUrl': '%s?fhir_vs=isa/%s' % (SCT, c), 'code': rng.choice(members)})
    P['VC03'] = vc03
    P['VC03_map'] = vc03_map
    # ---- SS01: 300 subsumes / 300 subsumed-by / 125 not-subsumed / 50 equivalent, 3 depth buckets ------------
    deep = [c for c in rng.sample(clinical, min(20000, len(clinical))) if rel.depth(c) >= 5][:2000]
    if len(deep) < 600:
        deep = (deep * (600 // max(1, len(deep)) + 1))[:600]
    ss = []
    for k in range(300):
        b = deep[k]
        anc = [a for a in rel.ancestors(b) if a != ROOT]
        chain = [b]
        while len(chain) < 7 and rel.parents.get(chain[-1]) and rel.parents[chain[-1]][0] != ROOT:
            chain.append(rel.parents[chain[-1]][0])
        bucket = k % 3
        a = chain[min(len(chain) - 1, (1, 3, 6)[bucket])] if len(chain) > 1 else rng.choice(anc)
        ss.append({'codeA': a, 'codeB': b, 'expected': 'subsumes'})
        ss.append({'codeA': b, 'codeB': a, 'expected': 'subsumed-by'})
    for k in range(125):
        a = deep[300 + k]
        if k % 2:   # same-parent sibling
            p = rel.parents[a][0]
            sib = [s for s in rel.children[p] if s != a and s not in rel.ancestors(a) and a not in rel.ancestors(s)]
            b = rng.choice(sib) if sib else None
        else:
            b = None
        if b is None:   # cross-hierarchy
            ha = rel.hierarchy(a)
            while True:
                b = rng.choice(deep)
                if rel.hierarchy(b) != ha:
                    break
        ss.append({'codeA': a, 'codeB': b, 'expected': 'not-subsumed'})
    for k in range(50):
        c = deep[500 + k]
        ss.append({'codeA': c, 'codeB': c, 'expected': 'equivalent'})
    P['SS01'] = ss
    # ---- attribute combinations for EX02 / EX05 / EX08 ---------------------------------------------------------
    withattr = [c for c in rng.sample(clinical, min(60000, len(clinical))) if rel.attrs.get(c)]

    def combo():
        """(ancestor X, attr type, value, member d, other attr) with d a strict descendant of X having type=value."""
        while True:
            d = rng.choice(withattr)
            t, v = rng.choice(rel.attrs[d])
            up = [d]
            while len(up) < 5 and rel.parents.get(up[-1]) and rel.parents[up[-1]][0] != ROOT:
                up.append(rel.parents[up[-1]][0])
            if len(up) < 2:
                continue
            x = up[rng.randint(1, len(up) - 1)]
            other = [(t2, v2) for t2, v2 in rel.attrs[d] if t2 != t]
            return x, t, v, d, (rng.choice(other) if other else None)

    def flt(prop, op, value):
        return {'property': prop, 'op': op, 'value': value}

    # EX02: 80 descendent-of, 80 generalizes, 71 descendent-of + '=', 15 two descendent-of includes,
    # 10 two generalizes includes; counts 10 (191) / 20 (25) / 100 (30) / 1000 (10)
    counts02 = [10] * 191 + [20] * 25 + [100] * 30 + [1000] * 10
    rng.shuffle(counts02)
    ex02 = []
    for k in range(256):
        if k < 80:
            inc = [[flt('concept', 'descendent-of', rng.choice(cands))]]
        elif k < 160:
            inc = [[flt('concept', 'generalizes', rng.choice(deep))]]
        elif k < 231:
            x, t, v, d, _ = combo()
            inc = [[flt('concept', 'descendent-of', x), flt(t, '=', v)]]
        elif k < 246:
            inc = [[flt('concept', 'descendent-of', rng.choice(cands))],
                   [flt('concept', 'descendent-of', rng.choice(cands))]]
        else:
            inc = [[flt('concept', 'generalizes', rng.choice(deep))],
                   [flt('concept', 'generalizes', rng.choice(deep))]]
        ex02.append({'count': counts02[k], 'include': inc})
    P['EX02'] = ex02
    # EX05: is-a+= 370, = 210, =+= 203, is-a 95, two '=' includes 56, two is-a includes 20;
    # counts 10 (533) / 100 (330) / 20 (76) / 1000 (15)
    counts05 = [10] * 533 + [100] * 330 + [20] * 76 + [1000] * 15
    rng.shuffle(counts05)
    ex05 = []
    shapes = ['isa='] * 370 + ['='] * 210 + ['=='] * 203 + ['isa'] * 95 + ['2='] * 56 + ['2isa'] * 20
    for k, shape in enumerate(shapes):
        x, t, v, d, other = combo()
        if shape == 'isa=':
            inc = [[flt('concept', 'is-a', x), flt(t, '=', v)]]
        elif shape == '=':
            inc = [[flt(t, '=', v)]]
        elif shape == '==':
            while other is None:
                x, t, v, d, other = combo()
            inc = [[flt(t, '=', v), flt(other[0], '=', other[1])]]
        elif shape == 'isa':
            inc = [[flt('concept', 'is-a', rng.choice(cands))]]
        elif shape == '2=':
            x2, t2, v2, _, _ = combo()
            inc = [[flt(t, '=', v)], [flt(t2, '=', v2)]]
        else:
            inc = [[flt('concept', 'is-a', rng.choice(cands))], [flt('concept', 'is-a', rng.choice(cands))]]
        ex05.append({'count': counts05[k], 'include': inc})
    P['EX05'] = ex05
    # EX08: 1920 entries = 120 (is-a X AND attr = V) combos x text filters x counts 10/25/50
    ex08 = []
    for _ in range(120):
        x, t, v, d, _ = combo()
        words = [w for w in (rel.pref.get(d) or '').replace(',', ' ').split() if len(w) >= 4 and w.isalpha()]
        if not words:
            words = ['disorder']
        w = rng.choice(words).lower()
        prefixes = sorted({w[:n] for n in (4, 5, 6, len(w))})
        for k in range(16):
            ex08.append({'count': (10, 25, 50)[k % 3], 'textFilter': prefixes[k % len(prefixes)],
                         'include': [[flt('concept', 'is-a', x), flt(t, '=', v)]]})
    P['EX08'] = ex08
    # CM01: 228 inactive concepts with a REPLACED BY target
    inact = sorted(rel.replaced)
    P['CM01'] = [{'url': '%s?fhir_cm=%s' % (SCT, REPLACED_BY), 'code': c, 'expect': rel.replaced[c]}
                 for c in rng.sample(inact, min(228, len(inact)))]
    # CM02 substitute: the implicit ICD-10 map (447562003), explicit target system, 430 mapped concepts
    mapped = sorted(rel.mapped)
    P['CM02'] = [{'url': '%s?fhir_cm=%s' % (SCT, ICD10_MAP), 'system': SCT, 'code': c, 'target': ICD10}
                 for c in rng.sample(mapped, min(430, len(mapped)))]
    # EX04 substitute: the two simple refsets as enumerated value sets, counts 10/20/100/1000, 86/116 filtered
    ex04 = []
    refs = sorted(rel.simple, key=lambda r: len(rel.simple[r]))
    for r in refs:
        mem = rel.simple[r]
        words = []
        for c in rng.sample(mem, min(40, len(mem))):
            ws = [w for w in (rel.pref.get(c) or '').split() if len(w) >= 5 and w.isalpha()]
            if ws:
                words.append(rng.choice(ws).lower()[:6])
        for n in (10, 100, 1000):
            ex04.append({'url': '%s?fhir_vs=refset/%s' % (SCT, r), 'count': n})
        for k in range(55):
            ex04.append({'url': '%s?fhir_vs=refset/%s' % (SCT, r), 'count': (20, 100)[k % 2],
                         'filter': words[k % len(words)]})
    P['EX04'] = ex04
    # EX07 substitute words: filters with hits in the synthetic vocabulary (set at run time with the systems)
    vocab = Counter()
    for c in rng.sample(clinical, min(5000, len(clinical))):
        for w in (rel.pref.get(c) or '').split():
            if len(w) >= 5 and w.isalpha():
                vocab[w.lower()] += 1
    P['EX07_words'] = [w for w, _ in vocab.most_common(400)][::2][:200]
    P['EX03_hits'] = None
    return P


# ------------------------------------------------------------------------------------------------------------
# minimal keep-alive HTTP/1.1 client (asyncio streams)
# ------------------------------------------------------------------------------------------------------------
class Conn:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.r = self.w = None

    async def _open(self):
        self.r, self.w = await asyncio.open_connection(self.host, self.port)
        s = self.w.get_extra_info('socket')
        if s is not None:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self.w is not None:
            self.w.close()
        self.r = self.w = None

    async def request(self, method, path, body=None, ctype='application/fhir+json'):
        if self.w is None:
            await self._open()
        head = '%s %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/fhir+json\r\n' % (
            method, path, self.host, self.port)
        if body is not None:
            head += 'Content-Type: %s\r\nContent-Length: %d\r\n' % (ctype, len(body))
        self.w.write(head.encode('latin-1') + b'\r\n' + (body or b''))
        try:
            line = await self.r.readline()
            if not line:
                raise ConnectionError('connection closed')
            status = int(line.split(None, 2)[1])
            length, chunked, close = None, False, False
            while True:
                h = await self.r.readline()
                if h in (b'\r\n', b'\n', b''):
                    break
                k, _, v = h.partition(b':')
                k = k.strip().lower()
                if k == b'content-length':
                    length = int(v)
                elif k == b'transfer-encoding' and b'chunked' in v.lower():
                    chunked = True
                elif k == b'connection' and b'close' in v.lower():
                    close = True
            if chunked:
                parts = []
                while True:
                    n = int((await self.r.readline()).split(b';')[0], 16)
                    if n == 0:
                        await self.r.readline()
                        break
                    parts.append(await self.r.readexactly(n))
                    await self.r.readline()
                data = b''.join(parts)
            elif length is not None:
                data = await self.r.readexactly(length)
            else:
                data = await self.r.read()
                close = True
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, data


# ------------------------------------------------------------------------------------------------------------
# tests: request builders (k6/lib/fhir.js) and checks
# ------------------------------------------------------------------------------------------------------------
def enc(s):
    return urllib.parse.quote(str(s), safe='-_.!~*\'()')   # encodeURIComponent


def GET(path):
    return 'GET', path, None


def POST(path, params):
    return 'POST', path, json.dumps({'resourceType': 'Parameters', 'parameter': params}).encode()


def lookup(system, code, version=None):
    p = '/CodeSystem/$lookup?system=%s&code=%s' % (enc(system), enc(code))
    if version:
        p += '&version=%s' % enc(version)
    return GET(p)


def vs_validate(url, system, code, display=None):
    p = '/ValueSet/$validate-code?url=%s&system=%s&code=%s' % (enc(url), enc(system), enc(code))
    if display:
        p += '&display=%s' % enc(display)
    return GET(p)


def vs_expand_get(url, filter=None, count=None, offset=None):
    p = '/ValueSet/$expand?url=%s' % enc(url)
    if filter is not None:
        p += '&filter=%s' % enc(filter)
    if count is not None:
        p += '&count=%s' % count
    if offset is not None:
        p += '&offset=%s' % offset
    return GET(p)


def vs_expand_post(value_set, filter=None, count=None):
    params = [{'name': 'valueSet', 'resource': value_set}]
    if filter is not None:
        params.append({'name': 'filter', 'valueString': filter})
    if count is not None:
        params.append({'name': 'count', 'valueInteger': count})
    return POST('/ValueSet/$expand', params)


def adhoc(system, include):
    return {'resourceType': 'ValueSet', 'compose': {'include': [{'system': system, 'filter': f} for f in include]}}


def translate(url, system, code, target):
    return GET('/ConceptMap/$translate?url=%s&system=%s&code=%s&target=%s' % (enc(url), enc(system), enc(code),
                                                                              enc(target)))


def search(rtype, params):
    return GET('/%s?%s' % (rtype, '&'.join('%s=%s' % (k, enc(v)) for k, v in params.items())))


def _json(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


def _param(j, name):
    for p in (j or {}).get('parameter', []) or []:
        if p.get('name') == name:
            return p
    return None


def ok_params(status, j):
    if status != 200 or not isinstance(j, dict) or j.get('resourceType') != 'Parameters':
        return 'status %s / %s' % (status, (j or {}).get('resourceType') if isinstance(j, dict) else 'not JSON')
    return None


def chk_lookup(e, status, data):
    j = _json(data)
    bad = ok_params(status, j)
    if bad:
        return bad
    code = _param(j, 'code')
    if code and code.get('valueCode', code.get('valueString')) != e['code']:
        return 'code not echoed'
    if e.get('display') is not None:
        d = _param(j, 'display')
        if not d or d.get('valueString') != e['display']:
            return 'display %r, want %r' % (d and d.get('valueString'), e['display'])
    return None


def chk_result_true(e, status, data):
    j = _json(data)
    bad = ok_params(status, j)
    if bad:
        return bad
    r = _param(j, 'result')
    if not r or r.get('valueBoolean') is not True:
        m = _param(j, 'message')
        return 'result %s: %s' % (r and r.get('valueBoolean'), (m or {}).get('valueString', '')[:120])
    return None


def chk_not_found(e, status, data):
    if status == 404:
        return None
    j = _json(data)
    if status == 200 and isinstance(j, dict) and (j.get('issue') or [{}])[0].get('code') == 'not-found':
        return None
    return 'status %s' % status


def chk_subsumes(e, status, data):
    j = _json(data)
    bad = ok_params(status, j)
    if bad:
        return bad
    o = _param(j, 'outcome') or {}
    got = o.get('valueCode', o.get('valueString'))
    want = e['expected']
    if got != want and not (want == 'not-subsumed' and got == 'not-subsumes'):
        return 'outcome %s, want %s' % (got, want)
    return None


def chk_translate(e, status, data):
    bad = chk_result_true(e, status, data)
    if bad or 'expect' not in e:
        return bad
    if ('"%s"' % e['expect']).encode() not in data:
        return 'target %s missing' % e['expect']
    return None


def chk_bundle(e, status, data):
    j = _json(data)
    if status != 200 or not isinstance(j, dict) or j.get('resourceType') != 'Bundle':
        return 'status %s' % status
    return None


def chk_expansion(need_results):
    def f(e, status, data):
        j = _json(data)
        if status != 200 or not isinstance(j, dict) or j.get('resourceType') != 'ValueSet' \
                or 'expansion' not in j:
            issue = ''
            if isinstance(j, dict) and j.get('issue'):
                issue = str(j['issue'][0].get('diagnostics') or j['issue'][0].get('details', {}).get('text', ''))
            return 'status %s %s' % (status, issue[:150])
        n = len(j['expansion'].get('contains') or [])
        if need_results and n == 0:
            return 'no results'
        if e.get('count') is not None and n > e['count']:
            return '%d > count %d' % (n, e['count'])
        if 'total' in e:
            want = max(0, min(e['count'], e['total'] - e['offset']))
            if j['expansion'].get('total') not in (None, e['total']):
                return 'total %s, want %s' % (j['expansion'].get('total'), e['total'])
            if n != want:
                return '%d codes, want %d' % (n, want)
        return None
    return f


class Test:
    def __init__(self, tid, name, pool, request, check, kind='port', note=''):
        self.id, self.name, self.pool, self.request, self.check = tid, name, pool, request, check
        self.kind, self.note = kind, note


def discover(client_get, log):
    """Code systems and value sets the server lists (url, version, id, count)."""
    out = {'CodeSystem': [], 'ValueSet': []}
    for rt in out:
        st, data = client_get('/%s?_count=200' % rt)
        j = _json(data) if st == 200 else None
        for e in (j or {}).get('entry', []) or []:
            r = e.get('resource', {})
            out[rt].append({'url': r.get('url'), 'version': r.get('version'), 'id': r.get('id'),
                            'count': r.get('count')})
    log('  server lists %d CodeSystem, %d ValueSet' % (len(out['CodeSystem']), len(out['ValueSet'])))
    return out


def make_tests(P, listing, client_post, rng, log):
    T = []
    codes = P['codes']
    T.append(Test('LK01', 'SNOMED $lookup', codes, lambda e: lookup(SCT, e['code']), chk_lookup))
    T.append(Test('LK05', 'SNOMED $lookup, unknown code (404 expected)',
                  [{'code': c} for c in P['nonexistent']], lambda e: lookup(SCT, e['code']), chk_not_found))
    T.append(Test('VC01', 'VS $validate-code, implicit all-SNOMED VS, code', codes,
                  lambda e: vs_validate(SCT + '?fhir_vs', SCT, e['code']), chk_result_true))
    T.append(Test('VC02', 'VS $validate-code, implicit VS, code + display', codes,
                  lambda e: vs_validate(SCT + '?fhir_vs', SCT, e['code'], e['display']), chk_result_true))
    T.append(Test('VC03', 'VS $validate-code, isa/ hierarchies', P['VC03'],
                  lambda e: vs_validate(e['valueSetUrl'], SCT, e['code']), chk_result_true))
    T.append(Test('EX01', 'isa/ $expand + count/offset', P['EX01'],
                  lambda e: vs_expand_get('%s?fhir_vs=isa/%s' % (SCT, e['concept']), count=e['count'],
                                          offset=e['offset']), chk_expansion(False)))
    T.append(Test('EX02', 'ad-hoc descendent-of / generalizes (POST)', P['EX02'],
                  lambda e: vs_expand_post(adhoc(SCT, e['include']), count=e['count']), chk_expansion(True)))
    ex03 = [{'filter': t} for t in EX03_TERMS]
    T.append(Test('EX03', 'fhir_vs text filter (count 20/100)', ex03,
                  lambda e: vs_expand_get(SCT + '?fhir_vs', filter=e['filter'], count=rng.choice((20, 100))),
                  chk_expansion(False)))
    T.append(Test('EX04', 'enumerated VS $expand (refset/ stand-in for VSAC)', P['EX04'],
                  lambda e: vs_expand_get(e['url'], filter=e.get('filter'), count=e['count']),
                  chk_expansion(True), kind='substitute',
                  note='VSAC absent: the two simple refsets (1,000 and 20,000 members) as fhir_vs=refset/'))
    T.append(Test('EX05', 'ad-hoc is-a / property = / AND / OR (POST)', P['EX05'],
                  lambda e: vs_expand_post(adhoc(SCT, e['include']), count=e['count']), chk_expansion(True)))
    # EX06: RxNorm intensional (TTY / relationship filters): no analogue in a SNOMED-only store
    systems = [SCT] + [c['url'] for c in listing['CodeSystem'] if c['url'] and c['url'] != SCT][:2]
    words = P['EX07_words']
    ex07 = []
    for k in range(1702):
        n = 3 if (k % 10) < 3 else 2
        ex07.append({'filter': words[k % len(words)], 'systems': systems[:n] if len(systems) >= n else systems,
                     'count': (10, 200, 10, 200, 400)[k % 5] if k % 10 else 10})
    T.append(Test('EX07', 'multi-system text filter (POST)', ex07,
                  lambda e: vs_expand_post({'resourceType': 'ValueSet', 'compose': {
                      'include': [{'system': s} for s in e['systems']]}}, filter=e['filter'], count=e['count']),
                  chk_expansion(True), kind='substitute',
                  note='LOINC/RxNorm absent: systems = %s; filters = words of the synthetic vocabulary' % (
                      ', '.join(systems))))
    T.append(Test('EX08', 'ad-hoc is-a AND property = AND text filter (POST)', P['EX08'],
                  lambda e: vs_expand_post(adhoc(SCT, e['include']), filter=e['textFilter'], count=e['count']),
                  chk_expansion(True)))
    T.append(Test('SS01', 'SNOMED $subsumes', P['SS01'],
                  lambda e: GET('/CodeSystem/$subsumes?system=%s&codeA=%s&codeB=%s' % (
                      enc(SCT), enc(e['codeA']), enc(e['codeB']))), chk_subsumes))
    T.append(Test('CM01', '$translate, implicit REPLACED BY map', P['CM01'],
                  lambda e: translate(e['url'], SCT, e['code'], SCT), chk_translate))
    T.append(Test('CM02', '$translate, explicit target system (ICD-10 map stand-in)', P['CM02'],
                  lambda e: translate(e['url'], e['system'], e['code'], e['target']), chk_result_true,
                  kind='substitute', note='FHIR-package ConceptMaps absent: implicit SNOMED->ICD-10 map 447562003'))
    # FS01: published shape mix (1800): ValueSet?url&_count=10 800, CodeSystem?url&version 500,
    # CodeSystem?_count&_summary 200, ValueSet?_count&_summary 200, CodeSystem?url 100
    cs = [c for c in listing['CodeSystem'] if c['url']] or [{'url': SCT, 'version': None}]
    vs = [v['url'] for v in listing['ValueSet'] if v['url']] or [SCT + '?fhir_vs']
    fs = []
    for k in range(800):
        fs.append(('ValueSet', {'url': vs[k % len(vs)], '_count': 10}))
    for k in range(500):
        c = cs[k % len(cs)]
        fs.append(('CodeSystem', {'url': c['url'], 'version': c['version'] or ''}))
    for k in range(200):
        fs.append(('CodeSystem', {'_count': (10, 20, 50, 100)[k % 4], '_summary': 'true'}))
        fs.append(('ValueSet', {'_count': (10, 20, 50, 100)[k % 4], '_summary': 'true'}))
    for k in range(100):
        fs.append(('CodeSystem', {'url': SCT}))
    T.insert(0, Test('FS01', 'CodeSystem / ValueSet search', [{'rt': a, 'params': b} for a, b in fs],
                     lambda e: search(e['rt'], e['params']), chk_bundle,
                     note='urls are those the server lists (%d CodeSystem, %d ValueSet)' % (len(cs), len(vs))))
    # LK02 / LK03 / LK04: LOINC, FHIR-package code systems, RxNorm -> other loaded code systems if any
    others = sorted([c for c in listing['CodeSystem'] if c['url'] and c['url'] != SCT],
                    key=lambda c: -(c['count'] or 0))
    pools = []
    for c in others:
        st, data = client_post('/ValueSet/$expand', json.dumps({'resourceType': 'Parameters', 'parameter': [
            {'name': 'valueSet', 'resource': {'resourceType': 'ValueSet', 'compose': {'include': [
                {'system': c['url'], **({'version': c['version']} if c['version'] else {})}]}}},
            {'name': 'count', 'valueInteger': 2000}]}).encode())
        j = _json(data) if st == 200 else None
        got = [(x.get('system'), x.get('code'), c['version']) for x in ((j or {}).get('expansion', {})
                                                                        .get('contains') or [])]
        if got:
            pools.append((c, got))
    if pools:
        c, got = pools[0]
        T.insert(2, Test('LK02', '$lookup, 2nd code system (stand-in for LOINC)',
                         [{'system': s, 'code': k} for s, k, _ in got], lambda e: lookup(e['system'], e['code']),
                         chk_lookup, kind='substitute', note='LOINC absent: %s (%d codes)' % (c['url'], len(got))))
        tuples = [{'system': s, 'code': k, 'version': v} for _, g in pools for s, k, v in g]
        T.insert(3, Test('LK03', '$lookup with version, other code systems (stand-in for FHIR packages)', tuples,
                         lambda e: lookup(e['system'], e['code'], e['version']), chk_lookup, kind='substitute',
                         note='FHIR packages absent: %d tuples over %d code systems' % (len(tuples), len(pools))))
        if len(pools) > 1:
            c, got = pools[1]
            T.insert(4, Test('LK04', '$lookup, 3rd code system (stand-in for RxNorm)',
                             [{'system': s, 'code': k} for s, k, _ in got],
                             lambda e: lookup(e['system'], e['code']), chk_lookup, kind='substitute',
                             note='RxNorm absent: %s (%d codes)' % (c['url'], len(got))))
    return T


# ------------------------------------------------------------------------------------------------------------
# load generation
# ------------------------------------------------------------------------------------------------------------
def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    f = int(k)
    return xs[f] if f + 1 >= len(xs) else xs[f] + (xs[f + 1] - xs[f]) * (k - f)


async def run_level(host, port, prefix, test, vus, seconds, timeout, seed):
    lat, errs, samples = [], Counter(), []
    t_start = time.perf_counter()
    deadline = t_start + seconds
    last = [t_start]

    async def vu(i):
        rng = random.Random('%s/%s/%d/%d' % (seed, test.id, vus, i))
        conn = Conn(host, port)
        try:
            while time.perf_counter() < deadline:
                e = rng.choice(test.pool)
                method, path, body = test.request(e)
                t0 = time.perf_counter()
                try:
                    status, data = await asyncio.wait_for(conn.request(method, prefix + path, body), timeout)
                    bad = test.check(e, status, data)
                except TimeoutError:
                    conn.close()
                    bad = 'timeout %ss' % timeout
                except (OSError, ConnectionError, ValueError, asyncio.IncompleteReadError) as x:
                    conn.close()
                    bad = 'transport %s' % type(x).__name__
                    await asyncio.sleep(0.05)
                t1 = time.perf_counter()
                lat.append(t1 - t0)
                last[0] = max(last[0], t1)
                if bad:
                    errs[bad.split(':')[0][:60]] += 1
                    if len(samples) < 5:
                        samples.append({'request': '%s %s' % (method, path[:300]),
                                        'body': body.decode()[:300] if body else None, 'error': bad[:300]})
        finally:
            conn.close()

    await asyncio.gather(*(vu(i) for i in range(vus)))
    elapsed = max(seconds, last[0] - t_start)
    n = len(lat)
    ms = [x * 1000 for x in lat]
    return {'vus': vus, 'requests': n, 'seconds': round(elapsed, 2), 'rps': round(n / elapsed, 1),
            'errors': sum(errs.values()), 'error_rate': round(sum(errs.values()) / n, 4) if n else None,
            'p50_ms': _r(pct(ms, 50)), 'p90_ms': _r(pct(ms, 90)), 'p95_ms': _r(pct(ms, 95)),
            'p99_ms': _r(pct(ms, 99)), 'mean_ms': _r(statistics.fmean(ms)) if ms else None,
            'max_ms': _r(max(ms)) if ms else None, 'error_kinds': dict(errs.most_common(5)),
            'error_samples': samples}


def _r(x):
    return None if x is None else round(x, 2)


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def summarise(tid, levels):
    """Published convention (scripts/lib/scoring.ts): rps = max over VU levels of throughput x (1 - error rate);
    p50 at 1 VU. Here an error also includes a wrong answer (the published run only counts non-2xx)."""
    ok = [l for l in levels if l['requests']]
    if not ok:
        return {}
    for l in ok:
        l['eff_rps'] = round(l['rps'] * (1 - (l['error_rate'] or 0)), 1)
    peak = max(ok, key=lambda l: (l['eff_rps'], l['rps']))
    one = next((l for l in ok if l['vus'] == 1), ok[0])
    n = sum(l['requests'] for l in ok)
    e = sum(l['errors'] for l in ok)
    return {'peak_rps': peak['eff_rps'], 'peak_vus': peak['vus'], 'peak_raw_rps': max(l['rps'] for l in ok),
            'p50_1vu_ms': one['p50_ms'], 'p99_peak_ms': peak['p99_ms'], 'requests': n, 'errors': e,
            'error_rate': round(e / n, 4) if n else None}


def cpu_ticks(pid):
    """CPU time (clock ticks) of a process and its descendants: the worker processes of a multi-process server."""
    stats = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, total = {pid}, 0
    for _ in range(4):  # supervisor > workers > their helpers
        tree |= {p for p, (parent, _) in stats.items() if parent in tree}
    for p in tree:
        total += stats.get(p, (0, 0))[1]
    return total


def load_pools(meta_path, seed, pools_file, log):
    """The release's meta.json and the request pools drawn from it (cached in a file: a few minutes to draw)."""
    meta = json.load(open(meta_path, encoding='utf-8'))
    release_dir = os.path.dirname(os.path.abspath(meta_path))
    cache = pools_file or '/tmp/txbench-pools-%s-%s-seed%s.json' % (meta['release_dir'], meta['concepts'], seed)
    if os.path.exists(cache):
        log('pools from %s' % cache)
        return meta, json.load(open(cache, encoding='utf-8'))
    log('building pools from %s' % release_dir)
    rel = Release(release_dir, log)
    P = build_pools(rel, meta, seed, log)
    del rel
    with open(cache, 'w', encoding='utf-8') as f:
        json.dump(P, f)
    log('pools written to %s' % cache)
    return meta, P


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--base', required=True, help='FHIR base URL, loopback only (e.g. http://127.0.0.1:8799/fhir)')
    ap.add_argument('--meta', required=True, help='meta.json of the gen_rf2.py release loaded in the server')
    ap.add_argument('--duration', type=float, default=10.0, help='seconds per VU level (published: 30)')
    ap.add_argument('--warmup', type=float, default=3.0, help='warm-up seconds per test at 10 VUs (0: none)')
    ap.add_argument('--vus', default='1,10,50', help='VU levels (published: 1,10,50)')
    ap.add_argument('--tests', default='', help='comma-separated test ids (default: all)')
    ap.add_argument('--ceiling', default='/health,/fhir/metadata',
                    help='trivial endpoints (server-root paths) measured as the ceiling of this setup; "" for none')
    ap.add_argument('--timeout', type=float, default=60.0, help='per-request time-out in s (k6 default: 60)')
    ap.add_argument('--seed', default='1')
    ap.add_argument('--pools', default='', help='pool cache file (default: txbench-pools-<release>.json in /tmp)')
    ap.add_argument('--out', default='txbench.json')
    ap.add_argument('--md', default='txbench.md')
    ap.add_argument('--settle', type=float, default=120.0,
                    help='after each test, wait (at most this many s) until the server is idle (--server-pid), else until /health '
                         'answers within 4 ms 3 times in a row: abandoned (timed-out) requests may still be running in the '
                         'server (published: a fixed 5 s pause)')
    ap.add_argument('--server-pid', type=int, default=0,
                    help='pid of the server process (same machine): settle until its CPU use is under 5 %% for 1 s '
                         '(more reliable than /health latency, which a GIL-bound backlog barely delays)')
    ap.add_argument('--preflight-only', action='store_true', help='one request per test with a checked answer')
    a = ap.parse_args(argv)

    def log(msg):
        print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)

    u = urllib.parse.urlsplit(a.base)
    host = u.hostname
    try:
        loop_ok = ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        loop_ok = False
    if u.scheme != 'http' or not loop_ok:
        ap.error('--base must be plain http to a loopback address (127.0.0.0/8, localhost)')
    port = u.port or 80
    prefix = u.path.rstrip('/')
    vus_levels = [int(x) for x in a.vus.split(',') if x]
    wanted = {t.strip().upper() for t in a.tests.split(',') if t.strip()}

    meta, P = load_pools(a.meta, a.seed, a.pools, log)

    async def one(method, path, body=None):
        c = Conn(host, port)
        try:
            return await asyncio.wait_for(c.request(method, path, body), a.timeout)
        finally:
            c.close()

    def sync_get(path):
        return asyncio.run(one('GET', prefix + path))

    def sync_post(path, body):
        return asyncio.run(one('POST', prefix + path, body))

    if a.server_pid and a.settle > 0:   # a server still busy with earlier (abandoned) requests skews everything
        hz, end = os.sysconf('SC_CLK_TCK'), time.time() + a.settle
        while time.time() < end:
            c0 = cpu_ticks(a.server_pid)
            time.sleep(1.0)
            if (cpu_ticks(a.server_pid) - c0) / hz < 0.05:
                break
        log('server idle after %.0f s' % (a.settle - max(0.0, end - time.time())))
    listing = discover(sync_get, log)
    rng = random.Random('txbench-requests/%s' % a.seed)
    tests = make_tests(P, listing, sync_post, rng, log)
    if wanted:
        tests = [t for t in tests if t.id in wanted]
    present = {t.id for t in tests}
    missing = [t for t in ('FS01', 'LK01', 'LK02', 'LK03', 'LK04', 'LK05', 'VC01', 'VC02', 'VC03', 'EX01', 'EX02',
                           'EX03', 'EX04', 'EX05', 'EX06', 'EX07', 'EX08', 'SS01', 'CM01', 'CM02')
               if t not in present and (not wanted or t in wanted)]

    result = {'base': a.base, 'release': meta['release_dir'], 'concepts': meta['concepts'], 'seed': a.seed,
              'duration_s': a.duration, 'warmup_s': a.warmup, 'vus': vus_levels, 'started': time.strftime(
                  '%Y-%m-%dT%H:%M:%S'), 'cpus': os.cpu_count(), 'loadavg_start': loadavg(),
              'pools': {'EX01_sizes': P.get('EX01_sizes'), 'VC03_map': P.get('VC03_map')},
              'skipped': {t: 'no data of that kind in the store' for t in missing}, 'preflight': {}, 'tests': {},
              'ceiling': {}}

    # preflight: first entry of each pool, checked
    for t in tests:
        e = t.pool[0]
        method, path, body = t.request(e)
        try:
            st, data = asyncio.run(one(method, prefix + path, body))
            bad = t.check(e, st, data)
        except Exception as x:
            bad = 'transport %r' % x
        result['preflight'][t.id] = {'ok': bad is None, 'error': bad, 'request': '%s %s' % (method, path[:200])}
        log('preflight %s: %s' % (t.id, 'pass' if bad is None else 'FAIL ' + bad[:160]))
    if a.preflight_only:
        json.dump(result, open(a.out, 'w'), indent=1)
        return 0

    async def settle():
        end = time.perf_counter() + a.settle
        good = 0
        await asyncio.sleep(min(1.0 if a.server_pid else 5.0, a.settle))
        if a.server_pid:
            hz = os.sysconf('SC_CLK_TCK')
            while time.perf_counter() < end:
                c0 = cpu_ticks(a.server_pid)
                await asyncio.sleep(1.0)
                if (cpu_ticks(a.server_pid) - c0) / hz < 0.05:
                    break
            return round(a.settle - max(0.0, end - time.perf_counter()), 1)
        while time.perf_counter() < end and good < 3:
            t0 = time.perf_counter()
            try:
                st, _ = await one('GET', '/health')
            except Exception:
                st = 0
            good = good + 1 if st == 200 and time.perf_counter() - t0 < 0.004 else 0
            await asyncio.sleep(0.3)
        return round(a.settle - max(0.0, end - time.perf_counter()), 1)

    async def bench(t, pfx):
        if a.warmup > 0:
            await run_level(host, port, pfx, t, 10, a.warmup, a.timeout, a.seed + '/warm')
        levels = []
        for v in vus_levels:
            if a.server_pid and a.settle > 0 and (levels or a.warmup > 0):
                await settle()   # requests abandoned at time-out may still run in the server
            ticks = cpu_ticks(a.server_pid) if a.server_pid else None
            lv = await run_level(host, port, pfx, t, v, a.duration, a.timeout, a.seed)
            lv['loadavg'] = loadavg()
            if ticks is not None and lv['requests']:   # the server's CPU per request: robust to a busy machine
                lv['server_cpu_us'] = round((cpu_ticks(a.server_pid) - ticks) / os.sysconf('SC_CLK_TCK')
                                            / lv['requests'] * 1e6, 1)
            levels.append(lv)
            log('  %s vus=%d: %.1f rps, p50 %s ms, p99 %s ms, server CPU %s us/request, errors %d/%d %s' % (
                t.id, v, lv['rps'], lv['p50_ms'], lv['p99_ms'], lv.get('server_cpu_us'), lv['errors'], lv['requests'],
                lv['error_kinds'] if lv['errors'] else ''))
        return levels

    if a.settle > 0 and a.server_pid:
        log('waiting for the server to be idle (%.0f s)' % asyncio.run(settle()))
    # ceiling: trivial endpoints (server-root paths), same VU levels
    for path in [p for p in a.ceiling.split(',') if p]:
        t = Test('CEIL', path, [{}], lambda e, p=path: GET(p),
                 lambda e, st, d: None if st == 200 else 'status %s' % st)
        log('ceiling %s' % path)
        levels = asyncio.run(bench(t, ''))
        result['ceiling'][path] = {'levels': levels, **summarise(path, levels)}

    for t in tests:
        log('%s (%s, %d entries)' % (t.id, t.name, len(t.pool)))
        levels = asyncio.run(bench(t, prefix))
        result['tests'][t.id] = {'name': t.name, 'kind': t.kind, 'note': t.note, 'pool': len(t.pool),
                                 'levels': levels, **summarise(t.id, levels)}
        if a.settle > 0:
            result['tests'][t.id]['settle_s'] = asyncio.run(settle())
        json.dump(result, open(a.out, 'w'), indent=1)
    result['loadavg_end'] = loadavg()
    json.dump(result, open(a.out, 'w'), indent=1)
    with open(a.md, 'w', encoding='utf-8') as f:
        f.write(markdown(result))
    print(markdown(result))
    return 0


def markdown(res):
    cr = max((c.get('peak_rps') or 0 for c in res['ceiling'].values()), default=0) or None
    lines = ['| test | kind | rps without errors (peak, VUs) | p50 @1 VU ms | p99 @peak ms | errors | rps / ceiling |',
             '|---|---|---|---|---|---|---|']
    for path, c in res['ceiling'].items():
        lines.append('| ceiling `%s` | trivial | %s (%s) | %s | %s | %d/%d | %s |' % (
            path, c.get('peak_rps'), c.get('peak_vus'), c.get('p50_1vu_ms'), c.get('p99_peak_ms'),
            c.get('errors', 0), c.get('requests', 0), '%.2f' % (c['peak_rps'] / cr) if cr else '-'))
    for tid, t in res['tests'].items():
        ratio = '%.3f' % (t['peak_rps'] / cr) if cr and t.get('peak_rps') is not None else '-'
        lines.append('| %s | %s | %s (%s) | %s | %s | %d/%d (%.1f %%) | %s |' % (
            tid, t['kind'], t.get('peak_rps'), t.get('peak_vus'), t.get('p50_1vu_ms'), t.get('p99_peak_ms'),
            t.get('errors', 0), t.get('requests', 0), 100.0 * (t.get('error_rate') or 0), ratio))
    for tid, why in res.get('skipped', {}).items():
        lines.append('| %s | skip | - | - | - | - | %s |' % (tid, why))
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    sys.exit(main())
