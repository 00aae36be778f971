#!/usr/bin/env python3
"""Deterministic generator of a synthetic SNOMED CT International-Edition-shaped RF2 Snapshot.

Used to benchmark a terminology server's import speed and query latency.  Standard library only.

    python3 gen_rf2.py OUTDIR [--concepts 370000] [--seed 1] [--fr] [--effective-time 20250901]

Output: OUTDIR/SnomedCT_SyntheticRF2_<t>/Snapshot/{Terminology,Refset/...}/*.txt (tab separated,
header line, CRLF, UTF-8) and OUTDIR/SnomedCT_SyntheticRF2_<t>/meta.json (row counts, shape stats
and probe ids with their exact expected answers).

Shape at the default size: 370k concepts (5% inactive); active inferred is-a DAG rooted at
138875005 (19 top-level hierarchies, ~30% of concepts with 2-4 parents, depth <= 15, hubs with
~100k / ~10k / ~100 descendants); ~1.2M is-a rows and ~3M relationship rows in total (inactive
historical rows included, as in a real Snapshot); ~1.6M English descriptions with US/GB language
refsets; optional French extension descriptions; ICD-10-like extended map, two simple refsets and
a REPLACED BY association refset.

SCTIDs are valid (Verhoeff check digit).  Partition identifiers follow the RF2 specification:
"00" concept, "01" description, "02" relationship (short format); French extension descriptions
use the long format with namespace 1000315 (partition "11").  Every random decision comes from
random.Random streams seeded from --seed, so output is byte-identical for equal arguments.
"""
import argparse
import json
import os
import random
import sys
import time
from array import array

# --------------------------------------------------------------------------------------------
# SCTID check digits (Verhoeff)
# --------------------------------------------------------------------------------------------
_D = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
      (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
      (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
      (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
_P = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
      (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
      (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def verhoeff_digit(payload):
    c = 0
    for i, ch in enumerate(reversed(payload)):
        c = _D[c][_P[(i + 1) % 8][ord(ch) - 48]]
    return str(_INV[c])


def verhoeff_ok(sctid):
    c = 0
    for i, ch in enumerate(reversed(str(sctid))):
        c = _D[c][_P[i % 8][ord(ch) - 48]]
    return c == 0


class IdMaker:
    """SCTID = str(seq) + suffix (partition, or namespace+partition) + check digit; seq >= 1000.
    Fast path: tables for the suffix + last three digits, and a cache per leading part."""

    def __init__(self, suffix):
        self.suffix = suffix
        m = len(suffix)
        c0 = 0
        for i, ch in enumerate(reversed(suffix)):
            c0 = _D[c0][_P[(i + 1) % 8][ord(ch) - 48]]
        low = []
        for lo in range(1000):
            c = c0
            for j, ch in enumerate(reversed('%03d' % lo)):
                c = _D[c][_P[(m + j + 1) % 8][ord(ch) - 48]]
            low.append(c)
        self.low = low
        self.m = m
        self.cache = {}

    def _hi(self, hi):
        digits = str(hi)
        base = self.m + 3
        out = []
        for c in range(10):
            for j, ch in enumerate(reversed(digits)):
                c = _D[c][_P[(base + j + 1) % 8][ord(ch) - 48]]
            out.append(_INV[c])
        t = tuple(out)
        self.cache[hi] = t
        return t

    def __call__(self, seq):
        hi, lo = divmod(seq, 1000)
        f = self.cache.get(hi)
        if f is None:
            f = self._hi(hi)
        return '%d%s%d' % (seq, self.suffix, f[self.low[lo]])


def uuid4_str(getrandbits):
    """Same text as str(uuid.UUID(int=getrandbits(128), version=4)), faster."""
    x = getrandbits(128)
    x = (x & ~(0xc000 << 48)) | (0x8000 << 48)
    x = (x & ~(0xf000 << 64)) | (4 << 76)
    h = '%032x' % x
    return '%s-%s-%s-%s-%s' % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


# --------------------------------------------------------------------------------------------
# Metadata ids
# --------------------------------------------------------------------------------------------
ROOT = '138875005'
CORE_MODULE = '900000000000207008'
FR_MODULE = '11000315107'
FSN_TYPE = '900000000000003001'
SYN_TYPE = '900000000000013009'
ISA = '116680003'
INFERRED = '900000000000011006'
EXISTENTIAL = '900000000000451002'
CASE_INS = '900000000000448009'
PRIMITIVE = '900000000000074008'
DEFINED = '900000000000073002'
US_REFSET = '900000000000509007'
GB_REFSET = '900000000000508004'
FR_REFSET = '21000315101'
PREFERRED = '900000000000548007'
ACCEPTABLE = '900000000000549004'
MAP_REFSET = '447562003'
REPLACED_BY = '900000000000526001'
FINDING_SITE = '363698007'
CAUSATIVE_AGENT = '246075003'
METHOD = '260686004'
ASSOC_MORPH = '116676008'
CORR_NOT_SPECIFIED = '447561005'
CAT_PROPERLY = '447637006'
CAT_CONTEXT = '447639009'
CAT_CANNOT = '447638001'
AGE_AT_ONSET = '445518008'

(K_ROOT, K_DISORDER, K_FINDING, K_PROC, K_BODY, K_MORPH, K_SUBST, K_PRODUCT, K_ORG, K_OBJ,
 K_QUAL, K_ACTION, K_OBS, K_SIT, K_EVENT, K_SOCIAL, K_ENV, K_SPEC, K_STAGING, K_RECORD, K_FORCE,
 K_SPECIAL, K_META, K_ATTR) = range(24)

# (sctid or None for a synthetic id, FSN, parent sctid, kind, budget spec)
# budget spec: None (no descendants beyond fixed ones), ('top', weight), ('abs', n at 370k),
# ('share', fraction of the parent's budget).
FIXED = [
    (ROOT, 'SNOMED CT Concept (SNOMED RT+CTV3)', None, K_ROOT, None),
    ('404684003', 'Clinical finding (finding)', ROOT, K_FINDING, ('top', 36.0)),
    ('71388002', 'Procedure (procedure)', ROOT, K_PROC, ('top', 16.0)),
    ('123037004', 'Body structure (body structure)', ROOT, K_BODY, ('top', 11.0)),
    ('410607006', 'Organism (organism)', ROOT, K_ORG, ('top', 9.0)),
    ('105590001', 'Substance (substance)', ROOT, K_SUBST, ('top', 7.0)),
    ('373873005', 'Pharmaceutical / biologic product (product)', ROOT, K_PRODUCT, ('top', 4.5)),
    ('260787004', 'Physical object (physical object)', ROOT, K_OBJ, ('top', 4.0)),
    ('362981000', 'Qualifier value (qualifier value)', ROOT, K_QUAL, ('top', 2.8)),
    ('363787002', 'Observable entity (observable entity)', ROOT, K_OBS, ('top', 2.7)),
    ('243796009', 'Situation with explicit context (situation)', ROOT, K_SIT, ('top', 1.5)),
    ('272379006', 'Event (event)', ROOT, K_EVENT, ('top', 1.1)),
    ('48176007', 'Social context (social concept)', ROOT, K_SOCIAL, ('top', 1.3)),
    ('308916002', 'Environment or geographical location (environment / location)', ROOT, K_ENV,
     ('top', 0.5)),
    ('123038009', 'Specimen (specimen)', ROOT, K_SPEC, ('top', 0.5)),
    ('254291000', 'Staging and scales (staging scale)', ROOT, K_STAGING, ('top', 0.4)),
    ('419891008', 'Record artifact (record artifact)', ROOT, K_RECORD, ('top', 0.12)),
    ('78621006', 'Physical force (physical force)', ROOT, K_FORCE, ('top', 0.05)),
    ('370115009', 'Special concept (special concept)', ROOT, K_SPECIAL, ('top', 0.08)),
    ('900000000000441003', 'SNOMED CT Model Component (metadata)', ROOT, K_META, ('top', 0.7)),
    # hubs
    ('64572001', 'Disease (disorder)', '404684003', K_DISORDER, ('abs', 91000)),
    ('49601007', 'Disorder of cardiovascular system (disorder)', '64572001', K_DISORDER,
     ('abs', 5600)),
    ('442083009', 'Anatomical or acquired body structure (body structure)', '123037004', K_BODY,
     ('share', 0.85)),
    ('49755003', 'Morphologically abnormal structure (morphologic abnormality)', '123037004',
     K_MORPH, ('share', 0.13)),
    ('129264002', 'Action (qualifier value)', '362981000', K_ACTION, ('share', 0.15)),
    (AGE_AT_ONSET, 'Age at onset of clinical finding (observable entity)', '363787002', K_OBS,
     None),
    # metadata
    ('900000000000442005', 'Core metadata concept (core metadata concept)',
     '900000000000441003', K_META, None),
    ('900000000000443000', 'Module (core metadata concept)', '900000000000442005', K_META, None),
    (CORE_MODULE, 'SNOMED CT core module (core metadata concept)', '900000000000443000', K_META,
     None),
    (FR_MODULE, 'Synthetic French extension module (core metadata concept)',
     '900000000000443000', K_META, None),
    ('900000000000444006', 'Definition status (core metadata concept)', '900000000000442005',
     K_META, None),
    (PRIMITIVE, 'Primitive (core metadata concept)', '900000000000444006', K_META, None),
    (DEFINED, 'Defined (core metadata concept)', '900000000000444006', K_META, None),
    ('900000000000446008', 'Description type (core metadata concept)', '900000000000442005',
     K_META, None),
    (FSN_TYPE, 'Fully specified name (core metadata concept)', '900000000000446008', K_META, None),
    (SYN_TYPE, 'Synonym (core metadata concept)', '900000000000446008', K_META, None),
    ('900000000000447004', 'Case significance (core metadata concept)', '900000000000442005',
     K_META, None),
    (CASE_INS, 'Entire term case insensitive (core metadata concept)', '900000000000447004',
     K_META, None),
    ('900000000000449001', 'Characteristic type (core metadata concept)', '900000000000442005',
     K_META, None),
    (INFERRED, 'Inferred relationship (core metadata concept)', '900000000000449001', K_META,
     None),
    ('900000000000450001', 'Modifier (core metadata concept)', '900000000000442005', K_META, None),
    (EXISTENTIAL, 'Existential restriction modifier (core metadata concept)',
     '900000000000450001', K_META, None),
    ('900000000000454005', 'Foundation metadata concept (foundation metadata concept)',
     '900000000000441003', K_META, None),
    ('900000000000455006', 'Reference set (foundation metadata concept)', '900000000000454005',
     K_META, None),
    ('900000000000506000', 'Language type reference set (foundation metadata concept)',
     '900000000000455006', K_META, None),
    (US_REFSET, 'United States of America English language reference set '
     '(foundation metadata concept)', '900000000000506000', K_META, None),
    (GB_REFSET, 'Great Britain English language reference set (foundation metadata concept)',
     '900000000000506000', K_META, None),
    (FR_REFSET, 'French language reference set (foundation metadata concept)',
     '900000000000506000', K_META, None),
    ('900000000000521006', 'Association type reference set (foundation metadata concept)',
     '900000000000455006', K_META, None),
    (REPLACED_BY, 'REPLACED BY association reference set (foundation metadata concept)',
     '900000000000521006', K_META, None),
    ('446609009', 'Simple type reference set (foundation metadata concept)',
     '900000000000455006', K_META, None),
    (None, 'Synthetic benchmark small simple reference set (foundation metadata concept)',
     '446609009', K_META, None),
    (None, 'Synthetic benchmark large simple reference set (foundation metadata concept)',
     '446609009', K_META, None),
    ('609331003', 'Extended map type reference set (foundation metadata concept)',
     '900000000000455006', K_META, None),
    (MAP_REFSET, 'ICD-10 complex map reference set (foundation metadata concept)', '609331003',
     K_META, None),
    ('900000000000511003', 'Acceptability (foundation metadata concept)', '900000000000454005',
     K_META, None),
    (PREFERRED, 'Preferred (foundation metadata concept)', '900000000000511003', K_META, None),
    (ACCEPTABLE, 'Acceptable (foundation metadata concept)', '900000000000511003', K_META, None),
    ('447247004', 'SNOMED CT source code to target map code correlation value '
     '(foundation metadata concept)', '900000000000454005', K_META, None),
    (CORR_NOT_SPECIFIED, 'SNOMED CT source code to target map code correlation not specified '
     '(foundation metadata concept)', '447247004', K_META, None),
    ('609330002', 'Map category value (foundation metadata concept)', '900000000000454005',
     K_META, None),
    (CAT_PROPERLY, 'Map source concept is properly classified (foundation metadata concept)',
     '609330002', K_META, None),
    (CAT_CONTEXT, 'Map of source concept is context dependent (foundation metadata concept)',
     '609330002', K_META, None),
    (CAT_CANNOT, 'Map source concept cannot be classified with available data '
     '(foundation metadata concept)', '609330002', K_META, None),
    ('410662002', 'Concept model attribute (attribute)', '900000000000441003', K_ATTR, None),
    (ISA, 'Is a (attribute)', '410662002', K_ATTR, None),
    (FINDING_SITE, 'Finding site (attribute)', '410662002', K_ATTR, None),
    (CAUSATIVE_AGENT, 'Causative agent (attribute)', '410662002', K_ATTR, None),
    (METHOD, 'Method (attribute)', '410662002', K_ATTR, None),
    (ASSOC_MORPH, 'Associated morphology (attribute)', '410662002', K_ATTR, None),
]
FIXED_SYNONYMS = {
    '404684003': ['Finding'], '64572001': ['Disorder'], '71388002': ['Operation'],
    '123037004': ['Body structures'], '105590001': ['Chemical'], '410607006': ['Organism'],
    '49601007': ['Cardiovascular disease'], ISA: ['Is a'], FSN_TYPE: ['FSN'],
}
SMALL_REFSET_NAME = FIXED[[i for i, f in enumerate(FIXED) if f[0] is None][0]][1]

MAXD = 15  # maximum is-a depth below the root (longest path)
LEAF_Q = (0.2, 0.3)
SKEW = 1.5
KEXP = 0.7

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------
SITES = ['heart', 'left ventricle', 'right atrium', 'mitral valve', 'aortic valve', 'aorta',
         'coronary artery', 'pulmonary artery', 'kidney', 'renal pelvis', 'ureter', 'bladder',
         'urethra', 'liver', 'bile duct', 'gallbladder', 'pancreas', 'stomach', 'duodenum',
         'jejunum', 'ileum', 'colon', 'rectum', 'anus', 'esophagus', 'lung', 'bronchus',
         'trachea', 'pleura', 'larynx', 'pharynx', 'nasal cavity', 'maxillary sinus', 'brain',
         'cerebellum', 'spinal cord', 'peripheral nerve', 'retina', 'cornea', 'lens of eye',
         'middle ear', 'skin', 'subcutaneous tissue', 'breast', 'thyroid gland', 'adrenal gland',
         'pituitary gland', 'prostate', 'testis', 'ovary', 'uterus', 'cervix uteri', 'femur',
         'neck of femur', 'tibia', 'fibula', 'humerus', 'radius', 'ulna', 'vertebra', 'pelvis',
         'skull', 'mandible', 'knee joint', 'hip joint', 'shoulder joint', 'ankle joint',
         'wrist joint', 'elbow joint', 'lymph node', 'spleen', 'bone marrow', 'tendon',
         'skeletal muscle', 'vein of lower limb', 'artery of upper limb', 'hand', 'foot',
         'finger', 'toe', 'eyelid', 'tongue', 'tooth', 'gingiva', 'salivary gland', 'appendix',
         'diaphragm', 'abdominal wall', 'scalp', 'meninges']
DIS_BASES = [('fracture', 'break'), ('infection', 'infective disorder'),
             ('inflammation', 'inflammatory disorder'), ('ulcer', 'ulceration'),
             ('neoplasm', 'tumor'), ('hemorrhage', 'bleeding'), ('stenosis', 'narrowing'),
             ('obstruction', 'blockage'), ('insufficiency', 'failure'),
             ('abscess', 'pus collection'), ('cyst', 'cystic lesion'),
             ('hypertrophy', 'enlargement'), ('atrophy', 'wasting'),
             ('necrosis', 'tissue death'), ('dysplasia', 'abnormal development'),
             ('hernia', 'herniation'), ('laceration', 'tear'), ('rupture', 'burst'),
             ('thrombosis', 'clot'), ('embolism', 'embolus'), ('edema', 'swelling'),
             ('fibrosis', 'scarring'), ('calcification', 'calcium deposit'),
             ('malformation', 'deformity'), ('carcinoma', 'cancer'),
             ('adenoma', 'benign glandular tumor'), ('degeneration', 'degenerative disorder'),
             ('dislocation', 'displacement'), ('contusion', 'bruise'), ('injury', 'trauma'),
             ('ischemia', 'reduced blood supply'), ('aneurysm', 'dilatation'),
             ('fistula', 'abnormal passage'), ('polyp', 'polypoid lesion'),
             ('erosion', 'superficial ulcer'), ('anemia', 'low hemoglobin')]
DIS_MODS = ['acute', 'chronic', 'subacute', 'recurrent', 'congenital', 'primary', 'secondary',
            'traumatic', 'bacterial', 'viral', 'fungal', 'malignant', 'benign', 'idiopathic',
            'postoperative', 'complicated', 'closed', 'open', 'severe', 'mild', 'non-traumatic',
            'pathological', 'drug-induced', 'hereditary', 'acquired', 'pediatric', 'bilateral']
NAMED = ['diabetes mellitus type 2', 'diabetes mellitus type 1', 'heart failure', 'hypertension',
         'asthma', 'chronic obstructive lung disease', 'hepatitis B', 'hepatitis C', 'pneumonia',
         'migraine', 'epilepsy', 'rheumatoid arthritis', 'osteoarthritis', 'psoriasis',
         'hypothyroidism', 'hyperthyroidism', 'glaucoma', 'cataract', 'gout', 'sepsis',
         'tuberculosis', 'influenza', 'cellulitis', 'dermatitis', 'iron deficiency anemia',
         'chronic kidney disease stage 3', 'atrial fibrillation', 'ischemic heart disease',
         'cerebral infarction', 'esophagitis', 'pulmonary edema']
COMPL = ['renal complication', 'retinopathy', 'neuropathy', 'peripheral angiopathy',
         'hyperglycemia', 'acute exacerbation', 'hypoglycemia', 'ketoacidosis', 'coma',
         'multiple complications', 'ulcer of foot', 'edema', 'hemorrhage', 'infection']
CAUSES = ['Staphylococcus aureus', 'Escherichia coli', 'trauma', 'alcohol', 'radiation',
          'diabetes mellitus', 'hypertension', 'drug', 'Streptococcus pneumoniae', 'tobacco',
          'autoimmune disease', 'Candida albicans', 'herpes simplex virus', 'ischemia']
FIND_BASES = [('pain in', 'ache in'), ('swelling of', 'lump of'), ('tenderness of', 'sore'),
              ('stiffness of', 'rigidity of'), ('abnormal', 'atypical'),
              ('finding of', 'observation of'), ('mass of', 'lump in'),
              ('discoloration of', 'color change of'), ('numbness of', 'loss of sensation of'),
              ('weakness of', 'reduced power of'), ('deformity of', 'misshapen'),
              ('crepitus of', 'grating of'), ('tremor of', 'shaking of'),
              ('normal', 'unremarkable'), ('itching of', 'pruritus of')]
FIND_SUFFIX = ['', '', '', ' on movement', ' at rest', ' on palpation', ' - symptom', ' - sign',
               ' at night', ' on exertion']
PROC_ACTIONS = [('excision', 'removal'), ('biopsy', 'tissue sampling'),
                ('repair', 'reconstruction'), ('incision', 'cutting'), ('drainage', 'draining'),
                ('replacement', 'prosthetic replacement'), ('resection', 'partial removal'),
                ('transplantation', 'transplant'), ('ultrasonography', 'ultrasound scan'),
                ('radiography', 'X-ray'), ('computed tomography', 'CT scan'),
                ('magnetic resonance imaging', 'MRI'), ('endoscopic examination', 'endoscopy'),
                ('injection', 'injection into'), ('fixation', 'stabilization'),
                ('amputation', 'surgical removal'), ('catheterization', 'catheter insertion'),
                ('irrigation', 'washout'), ('destruction', 'ablation'),
                ('bypass', 'bypass graft'), ('examination', 'assessment')]
PROC_MODS = ['laparoscopic', 'open', 'endoscopic', 'percutaneous', 'partial', 'total',
             'radical', 'revision', 'emergency', 'diagnostic', 'therapeutic', 'bilateral',
             'robot-assisted', 'minimally invasive', 'pediatric', 'primary', 'secondary']
PROC_DEVICES = ['prosthesis', 'graft', 'stent', 'mesh', 'plate and screws', 'catheter',
                'fiber optic endoscope', 'laser', 'drain']
BODY_PREFIX = ['Structure of ', 'Entire ', 'Surface of ', 'Wall of ', 'Segment of ',
               'Region of ', 'Part of ', 'Apex of ', 'Base of ', 'Margin of ', 'Lumen of ',
               'Mucosa of ', 'Blood vessel of ', 'Nerve of ', 'Lymphatic of ', 'Skin of ',
               'Muscle of ', 'Capsule of ']
MORPH_BASES = ['adenocarcinoma', 'squamous cell carcinoma', 'lymphoma', 'sarcoma', 'granuloma',
               'hyperplasia', 'metaplasia', 'scar', 'vegetation', 'stricture', 'dilatation',
               'ulcer', 'abscess', 'cyst', 'hemorrhage', 'necrosis', 'fibrosis', 'edema',
               'inflammation', 'fracture', 'dislocation', 'laceration', 'neoplasm', 'thrombus',
               'embolus', 'calculus', 'foreign body', 'hematoma', 'infarct', 'atrophy']
MORPH_MODS = ['acute', 'chronic', 'benign', 'malignant', 'in situ', 'metastatic', 'focal',
              'diffuse', 'nodular', 'cystic', 'granulomatous', 'papillary', 'mucinous',
              'well differentiated', 'poorly differentiated', 'undifferentiated']
SUB_QUAL = ['', '', '', '', 'alpha-', 'beta-', 'N-methyl', 'dehydro', 'hydroxy', 'desmethyl',
            'nor', 'iso']
SUB_PRE = ['ami', 'bro', 'ceta', 'dexa', 'flu', 'glu', 'keto', 'lora', 'meto', 'nitro', 'oxa',
           'pro', 'rani', 'sulfa', 'tri', 'vala', 'cef', 'levo', 'cipro', 'ator', 'clo', 'pan']
SUB_MID = ['', 'ta', 'pra', 'xi', 'lo', 'me', 'ni', 'zo', 'ri', 'co', 'ba', 'du']
SUB_SUF = ['mab', 'pril', 'olol', 'azole', 'mycin', 'cillin', 'statin', 'sartan', 'ine', 'ate',
           'ide', 'one', 'profen', 'dipine', 'tidine', 'vir', 'parin', 'zepam', 'oxacin',
           'triptan', 'gliptin', 'tinib']
SUB_SALT = ['', '', '', ' hydrochloride', ' sodium', ' potassium', ' sulfate', ' acetate',
            ' maleate', ' citrate', ' succinate']
PROD_FORMS = ['oral tablet', 'oral capsule', 'solution for injection', 'oral suspension',
              'cutaneous cream', 'eye drops', 'prolonged-release oral tablet', 'inhalation powder',
              'suppository', 'transdermal patch']
GENERA = ['Streptococcus', 'Staphylococcus', 'Escherichia', 'Klebsiella', 'Pseudomonas',
          'Candida', 'Aspergillus', 'Mycobacterium', 'Clostridium', 'Bacillus', 'Salmonella',
          'Shigella', 'Enterococcus', 'Haemophilus', 'Neisseria', 'Listeria', 'Campylobacter',
          'Helicobacter', 'Legionella', 'Borrelia', 'Treponema', 'Chlamydia', 'Mycoplasma',
          'Rickettsia', 'Plasmodium', 'Toxoplasma', 'Giardia', 'Trichophyton', 'Cryptococcus',
          'Acinetobacter', 'Bacteroides', 'Corynebacterium', 'Vibrio', 'Yersinia', 'Brucella']
SPECIES = ['aureus', 'coli', 'pneumoniae', 'albicans', 'fumigatus', 'tuberculosis', 'difficile',
           'cereus', 'enterica', 'sonnei', 'faecalis', 'influenzae', 'meningitidis',
           'monocytogenes', 'jejuni', 'pylori', 'pneumophila', 'burgdorferi', 'pallidum',
           'trachomatis', 'genitalium', 'rickettsii', 'falciparum', 'gondii', 'lamblia', 'rubrum',
           'neoformans', 'baumannii', 'epidermidis', 'pyogenes', 'agalactiae', 'mutans', 'vivax',
           'glabrata', 'niger', 'fragilis', 'diphtheriae', 'cholerae', 'pestis', 'abortus']
MATERIALS = ['stainless steel', 'titanium', 'silicone', 'polyethylene', 'polypropylene', 'latex',
             'ceramic', 'glass', 'cotton', 'nylon', 'polyurethane', 'cobalt-chromium',
             'carbon fiber', 'hydrocolloid', 'alginate', 'polyester']
OBJECTS = ['surgical screw', 'bone plate', 'catheter', 'stent', 'suture', 'syringe', 'needle',
           'wound dressing', 'joint prosthesis', 'implant', 'cannula', 'surgical drain',
           'tracheostomy tube', 'heart valve prosthesis', 'infusion pump', 'guide wire',
           'forceps', 'retractor', 'splint', 'bandage', 'vascular clip', 'surgical mesh',
           'electrode', 'intraocular lens', 'hearing aid', 'wheelchair', 'walking frame']
QUAL_NOUNS = ['grade', 'stage', 'level', 'phase', 'degree', 'type', 'class', 'pattern', 'score',
              'category', 'zone', 'pitch', 'position']
QUAL_ADJ = ['mild', 'moderate', 'severe', 'left', 'right', 'bilateral', 'proximal', 'distal',
            'anterior', 'posterior', 'superior', 'inferior', 'medial', 'lateral', 'early', 'late',
            'high', 'low', 'increased', 'decreased', 'present', 'absent', 'positive', 'negative',
            'intermittent', 'persistent', 'central', 'peripheral', 'superficial', 'deep']
ACTIONS = ['Excision', 'Biopsy', 'Repair', 'Incision', 'Drainage', 'Replacement', 'Resection',
           'Transplantation', 'Imaging', 'Injection', 'Fixation', 'Amputation', 'Insertion',
           'Removal', 'Irrigation', 'Destruction', 'Dilation', 'Division', 'Suturing',
           'Reduction', 'Anastomosis', 'Implantation', 'Examination', 'Measurement']
PROPERTIES = ['Length', 'Width', 'Diameter', 'Volume', 'Mass', 'Temperature', 'Pressure',
              'Concentration', 'Rate', 'Count', 'Level', 'Tone', 'Reflex', 'Function',
              'Capacity', 'Range of movement', 'Thickness', 'Color', 'Shape', 'Sensation']
EVENTS = ['Fall', 'Collision', 'Accident', 'Exposure', 'Assault', 'Burn', 'Drowning',
          'Poisoning', 'Bite', 'Sting', 'Electrocution', 'Crush injury', 'Near drowning',
          'Overexertion', 'Cut', 'Explosion']
EVENT_CTX = ['from ladder', 'on stairs', 'with motor vehicle', 'at work', 'at home',
             'caused by machinery', 'involving bicycle', 'by dog', 'by venomous snake',
             'to smoke', 'to cold', 'in swimming pool', 'in sports facility', 'on ice',
             'from horse', 'in natural disaster', 'by firearm', 'in farm environment']
OCCUPATIONS = ['nurse', 'physician', 'teacher', 'farmer', 'engineer', 'driver', 'cleaner',
               'accountant', 'electrician', 'plumber', 'chef', 'pharmacist', 'soldier',
               'student', 'carpenter', 'miner', 'fisherman', 'lawyer', 'secretary', 'mechanic',
               'social worker', 'dentist', 'midwife', 'paramedic', 'porter', 'librarian']
OCC_ADJ = ['', 'senior ', 'junior ', 'trainee ', 'retired ', 'self-employed ', 'part-time ',
           'chief ', 'assistant ', 'specialist ', 'community ', 'hospital ']
RELATIONS = ['spouse', 'partner', 'parent', 'child', 'grandparent', 'sibling', 'friend',
             'carer', 'relative', 'neighbor']
PLACES = ['hospital', 'ward', 'clinic', 'nursing home', 'pharmacy', 'school', 'workplace',
          'farm', 'factory', 'airport', 'railway station', 'sports facility', 'prison',
          'hospice', 'home', 'operating theater', 'laboratory', 'health center']
PLACE_Q = ['intensive care', 'pediatric', 'geriatric', 'rural', 'urban', 'private', 'public',
           'day', 'emergency', 'outpatient', 'psychiatric', 'maternity', 'military', 'mobile']
SPECIMENS = ['Blood', 'Serum', 'Plasma', 'Urine', 'Sputum', 'Swab', 'Tissue', 'Fluid',
             'Biopsy', 'Aspirate', 'Stool', 'Saliva', 'Cerebrospinal fluid', 'Pus', 'Calculus',
             'Cytologic material']
SCALES = ['Glasgow', 'Apgar', 'Barthel', 'Braden', 'Waterlow', 'Tanner', 'Gleason', 'Breslow',
          'Clark', 'Hunt and Hess', 'Child-Pugh', 'Ranson', 'NYHA', 'Karnofsky', 'Mini-Mental',
          'Wells', 'CHA2DS2-VASc', 'Norton', 'Oxford', 'Berg']
SCALE_KIND = ['scale', 'score', 'staging system', 'index', 'classification', 'assessment scale',
              'questionnaire']
RECORDS = ['Discharge summary', 'Referral letter', 'Clinical note', 'Care plan',
           'Medication record', 'Laboratory report', 'Imaging report', 'Consent form',
           'Assessment record', 'Progress note', 'Operation note', 'Prescription record',
           'Clinic letter', 'Immunization record']
SPECIALTIES = ['cardiology', 'oncology', 'pediatrics', 'surgery', 'general practice',
               'psychiatry', 'nursing', 'radiology', 'dermatology', 'neurology', 'obstetrics',
               'orthopedics', 'ophthalmology', 'pharmacy', 'physiotherapy', 'dietetics']
FORCES = ['Electric current', 'Ionizing radiation', 'Heat', 'Cold', 'Pressure', 'Friction',
          'Vibration', 'Noise', 'Gravity', 'Magnetic field', 'Ultraviolet radiation', 'Laser',
          'Microwave radiation', 'Acceleration', 'Blast wave']
FORCE_Q = ['low intensity', 'high intensity', 'prolonged', 'brief', 'repeated', 'localized',
           'whole body', 'occupational', 'environmental', 'therapeutic']
META_WORDS = ['Clinical', 'Administrative', 'Nursing', 'Pathology', 'Pharmacy', 'Dental',
              'Cardiology', 'Oncology', 'Emergency', 'Pediatric', 'Renal', 'Respiratory',
              'Mental health', 'Maternity', 'Surgical', 'Imaging']
META_KIND = ['simple reference set', 'attribute value reference set', 'module',
             'language reference set', 'association type', 'descriptor', 'namespace concept',
             'map type', 'query specification']

AMERICAN_TO_BRITISH = [('tumor', 'tumour'), ('hemorrhage', 'haemorrhage'), ('edema', 'oedema'),
                       ('anemia', 'anaemia'), ('esophag', 'oesophag'), ('ischemi', 'ischaemi'),
                       ('pediatric', 'paediatric'), ('color', 'colour'), ('fiber', 'fibre'),
                       ('glycemia', 'glycaemia'), ('hemoglobin', 'haemoglobin'),
                       ('orthopedic', 'orthopaedic'), ('theater', 'theatre'),
                       ('neighbor', 'neighbour'), ('dilatation', 'dilatation')]

# French vocabulary (accented)
FR_BASES = ['insuffisance', 'fracture', 'hépatite', 'œdème', 'pneumopathie', 'ulcère', 'sténose',
            'thrombose', 'hémorragie', 'infection', 'néoplasme', 'kyste', 'abcès', 'luxation',
            'entorse', 'brûlure', 'lésion', 'dégénérescence', 'malformation', 'carcinome',
            'fibrose', 'nécrose', 'hernie', 'inflammation', 'hypertrophie', 'atrophie',
            'ischémie', 'anévrisme', 'déchirure', 'contusion']
FR_SITES = ['du cœur', 'du col du fémur', 'du foie', 'du rein', 'du poumon', "de l'estomac",
            'du côlon', "de l'épaule", 'du genou', 'de la hanche', 'de la cheville', 'du cerveau',
            'de la moelle épinière', 'de la rétine', 'de la cornée', 'de la vessie',
            'de la prostate', 'de la thyroïde', "de l'œsophage", 'du pancréas', 'de la rate',
            'de la trachée', 'de la bronche', 'de la plèvre', 'du tibia', 'du péroné',
            "de l'humérus", 'de la vertèbre', 'du crâne', 'de la mâchoire',
            "de l'artère coronaire", 'de la valve mitrale', 'du ventricule gauche', 'du fémur',
            'du poignet', 'de la paupière', "de l'oreille moyenne", 'du sein']
FR_QUALS = ['aiguë', 'chronique', 'gauche', 'droite', 'bilatérale', 'récidivante', 'congénitale',
            'sévère', 'légère', 'primitive', 'secondaire', 'traumatique', 'infectieuse',
            'bénigne', 'maligne', 'ouverte', 'fermée', 'compliquée', 'sans complication',
            'pédiatrique', 'évolutive']
FR_NAMED = ['insuffisance cardiaque', 'diabète sucré de type 2', 'diabète sucré de type 1',
            'hépatite virale', 'œdème pulmonaire', 'pneumopathie infectieuse',
            'insuffisance rénale', 'insuffisance respiratoire',
            'bronchopneumopathie chronique obstructive', 'hypertension artérielle',
            'cardiopathie ischémique', 'épilepsie', 'maladie de Crohn',
            'rectocolite hémorragique', 'hépatite alcoolique', 'œdème de Quincke',
            'anémie ferriprive', 'cirrhose du foie', 'fibrillation auriculaire',
            'insuffisance cardiaque congestive', 'pneumopathie d’inhalation']
FR_COMPL = ['rétinopathie', 'néphropathie', 'neuropathie périphérique', 'acidocétose',
            'hypoglycémie', 'complications multiples', 'ulcère du pied', 'décompensation aiguë',
            'œdème', 'hémorragie']
FR_PROC = ['excision', 'biopsie', 'réparation', 'incision', 'drainage', 'remplacement',
           'résection', 'greffe', 'échographie', 'radiographie', 'tomodensitométrie',
           'imagerie par résonance magnétique', 'endoscopie', 'injection', 'ostéosynthèse',
           'amputation', 'cathétérisme', 'irrigation', 'ablation', 'pontage', 'examen']
FR_PROC_Q = ['par voie laparoscopique', 'à ciel ouvert', 'par voie endoscopique', 'percutanée',
             'partielle', 'totale', 'radicale', 'de révision', 'en urgence',
             'à visée diagnostique', 'à visée thérapeutique', 'bilatérale',
             'sous anesthésie générale']
FR_BODY = ['structure', 'totalité', 'paroi', 'surface', 'région', 'muqueuse', 'segment',
           'vaisseau sanguin', 'nerf', 'capsule', 'bord', 'sommet']
FR_GEN_NOUN = ['élément', 'entité', 'catégorie', 'matériel', 'évènement', 'échelle',
               'prélèvement', 'environnement', 'qualificatif', 'activité', 'procédé',
               'caractéristique', 'métier', 'exposition', 'dossier']
FR_GEN_ADJ = ['spécifié', 'non spécifié', 'élevé', 'modéré', 'léger', 'sévère', 'précoce',
              'tardif', 'de première intention', 'à préciser', 'générique', 'étendu',
              'thérapeutique', 'médical', 'pédiatrique', 'gériatrique', 'hospitalier']
FR_ACCENTS = set('éèêàçôœÉ')


def _ucfirst(s):
    return s[:1].upper() + s[1:]


class EnTerms:
    """English term generator; gen(kind) -> (semantic tag, fsn base, [synonym candidates])."""

    def __init__(self, rng):
        self.r = rng.random
        self.c = rng.choice
        self.ri = rng.randint
        self.gens = {
            K_DISORDER: self.disorder, K_FINDING: self.finding, K_PROC: self.procedure,
            K_BODY: self.body, K_MORPH: self.morph, K_SUBST: self.substance,
            K_PRODUCT: self.product, K_ORG: self.organism, K_OBJ: self.physobj,
            K_QUAL: self.qualifier, K_ACTION: self.action, K_OBS: self.observable,
            K_SIT: self.situation, K_EVENT: self.event, K_SOCIAL: self.social,
            K_ENV: self.environment, K_SPEC: self.specimen, K_STAGING: self.staging,
            K_RECORD: self.record, K_FORCE: self.force, K_SPECIAL: self.special,
            K_META: self.meta, K_ATTR: self.meta, K_ROOT: self.meta,
        }

    def site(self):
        s = self.c(SITES)
        x = self.r()
        if x < 0.1:
            return 'left ' + s
        if x < 0.2:
            return 'right ' + s
        return s

    def disorder(self):
        r, c = self.r, self.c
        x = r()
        if x < 0.6:
            base, bsyn = c(DIS_BASES)
            site = self.site()
            mod = c(DIS_MODS) + ' ' if r() < 0.75 else ''
            t = '%s%s of %s' % (mod, base, site)
            alts = [t, '%s%s %s' % (mod, site, base), '%s%s of %s' % (mod, bsyn, site),
                    '%s of %s' % (base, site)]
        elif x < 0.85:
            n = c(NAMED)
            if r() < 0.6:
                comp = c(COMPL)
                t = '%s with %s' % (n, comp)
                alts = [t, '%s co-occurrent with %s' % (n, comp), '%s due to %s' % (comp, n),
                        '%s - %s' % (n, comp)]
            else:
                mod = c(DIS_MODS)
                site = self.site()
                t = '%s %s of %s' % (mod, n, site)
                alts = [t, '%s %s affecting %s' % (mod, n, site), '%s of %s, %s' % (n, site, mod)]
        else:
            base, bsyn = c(DIS_BASES)
            site = self.site()
            cause = c(CAUSES)
            t = '%s of %s due to %s' % (base, site, cause)
            alts = [t, '%s %s caused by %s' % (site, base, cause),
                    '%s of %s due to %s' % (bsyn, site, cause),
                    '%s-associated %s of %s' % (cause, base, site)]
        return 'disorder', t, alts

    def finding(self):
        r, c = self.r, self.c
        if r() < 0.1:
            tag, t, alts = self.disorder()
            return 'finding', 'finding of ' + t, ['finding of ' + a for a in alts]
        base, bsyn = c(FIND_BASES)
        site = self.site()
        suf = c(FIND_SUFFIX)
        t = '%s %s%s' % (base, site, suf)
        alts = [t, '%s %s%s' % (bsyn, site, suf), '%s %s' % (site, base.split(' ')[0]),
                '%s %s' % (base, site)]
        return 'finding', t, alts

    def procedure(self):
        r, c = self.r, self.c
        act, asyn = c(PROC_ACTIONS)
        site = self.site()
        mod = c(PROC_MODS) + ' ' if r() < 0.7 else ''
        dev = ' with %s' % c(PROC_DEVICES) if r() < 0.25 else ''
        t = '%s%s of %s%s' % (mod, act, site, dev)
        alts = [t, '%s%s of %s%s' % (mod, asyn, site, dev), '%s%s %s%s' % (mod, site, act, dev),
                '%s of %s' % (act, site)]
        return 'procedure', t, alts

    def body(self):
        c = self.c
        pre = c(BODY_PREFIX)
        site = self.site()
        t = pre + site
        alts = [t, '%s structure' % site if pre == 'Structure of ' else '%s %s' % (
            site, pre.strip().split(' ')[0].lower()), pre.lower() + site, site]
        tag = 'body structure' if self.r() < 0.9 else 'cell structure'
        return tag, t, alts

    def morph(self):
        r, c = self.r, self.c
        b = c(MORPH_BASES)
        m = c(MORPH_MODS)
        if r() < 0.5:
            t = '%s %s' % (m, b)
        else:
            t = '%s, %s' % (b, m)
        if r() < 0.3:
            t += ', grade %d' % self.ri(1, 4)
        alts = [t, '%s %s lesion' % (m, b), '%s (%s)' % (b, m), b]
        return 'morphologic abnormality', t, alts

    def _chem(self):
        c = self.c
        return '%s%s%s%s' % (c(SUB_QUAL), c(SUB_PRE), c(SUB_MID), c(SUB_SUF))

    def substance(self):
        c = self.c
        name = self._chem()
        salt = c(SUB_SALT)
        t = name + salt
        alts = [t, '%s%s (substance)' % (name, salt) if False else name + salt + ' preparation',
                name, '%s compound' % name]
        return 'substance', t, alts

    def product(self):
        r, c = self.r, self.c
        x = r()
        s1 = self._chem()
        if x < 0.45:
            t = 'Product containing %s' % s1
            alts = [t, '%s-containing product' % s1, '%s product' % s1, s1]
            tag = 'medicinal product'
        elif x < 0.85:
            mg = c((1, 2, 5, 10, 20, 25, 40, 50, 100, 125, 200, 250, 500, 1000))
            form = c(PROD_FORMS)
            t = 'Product containing precisely %s %d milligram/1 each %s' % (s1, mg, form)
            alts = [t, '%s %d mg %s' % (s1, mg, form), '%s %dmg %s' % (s1, mg, form),
                    '%s %d milligram %s' % (s1, mg, form)]
            tag = 'clinical drug'
        else:
            s2 = self._chem()
            t = 'Product containing %s and %s' % (s1, s2)
            alts = [t, '%s + %s' % (s1, s2), '%s and %s product' % (s1, s2),
                    '%s / %s' % (s1, s2)]
            tag = 'medicinal product'
        return tag, t, alts

    def organism(self):
        r, c = self.r, self.c
        g = c(GENERA)
        sp = c(SPECIES)
        x = r()
        if x < 0.35:
            t = '%s %s' % (g, sp)
            alts = [t, '%s. %s' % (g[0], sp), '%s species %s' % (g, sp)]
        elif x < 0.6:
            n = self.ri(1, 99)
            t = '%s %s serotype %d' % (g, sp, n)
            alts = [t, '%s %s serovar %d' % (g, sp, n), '%s. %s type %d' % (g[0], sp, n)]
        elif x < 0.8:
            sp2 = c(SPECIES)
            t = '%s %s subspecies %s' % (g, sp, sp2)
            alts = [t, '%s %s subsp. %s' % (g, sp, sp2), '%s %s %s' % (g, sp, sp2)]
        else:
            code = '%s%d' % (c('ABCDEFGHKLMNPRST'), self.ri(1, 999))
            t = '%s %s strain %s' % (g, sp, code)
            alts = [t, '%s %s %s' % (g, sp, code), '%s. %s strain %s' % (g[0], sp, code)]
        return 'organism', t, alts

    def physobj(self):
        r, c = self.r, self.c
        mat = c(MATERIALS)
        obj = c(OBJECTS)
        size = (', size %d' % self.ri(1, 40)) if r() < 0.6 else (', %d mm' % self.ri(1, 300))
        t = '%s %s%s' % (mat, obj, size)
        alts = [t, '%s made of %s%s' % (obj, mat, size), '%s %s' % (mat, obj), obj + size]
        return 'physical object', t, alts

    def qualifier(self):
        r, c = self.r, self.c
        adj = c(QUAL_ADJ)
        noun = c(QUAL_NOUNS)
        if r() < 0.5:
            t = '%s %s %d' % (adj, noun, self.ri(1, 30))
        else:
            t = '%s %s %s%d' % (adj, noun, c('IVX'), self.ri(1, 9))
        alts = [t, '%s - %s' % (noun, t), t.replace(adj, adj + ' to moderate', 1), adj + ' ' + noun]
        return 'qualifier value', t, alts

    def action(self):
        r, c = self.r, self.c
        a = c(ACTIONS)
        m = c(PROC_MODS)
        t = '%s %s - action' % (_ucfirst(m), a.lower()) if r() < 0.8 else '%s - action' % a
        if r() < 0.5:
            t = t.replace(' - action', ' using %s - action' % c(PROC_DEVICES))
        alts = [t, t.replace(' - action', ''), '%s action' % a, a]
        return 'qualifier value', t, alts

    def observable(self):
        r, c = self.r, self.c
        x = r()
        if x < 0.6:
            p = c(PROPERTIES)
            site = self.site()
            q = c(['', '', ' at rest', ' on exercise', ' by palpation', ' by imaging'])
            t = '%s of %s%s' % (p, site, q)
            alts = [t, '%s %s%s' % (site, p.lower(), q), '%s - %s' % (site, p.lower())]
        else:
            s = self._chem()
            fl = c(['serum', 'plasma', 'urine', 'blood', 'cerebrospinal fluid'])
            t = '%s concentration in %s' % (_ucfirst(s), fl)
            alts = [t, '%s %s level' % (fl, s), '%s level' % s]
        return 'observable entity', t, alts

    def situation(self):
        r, c = self.r, self.c
        x = r()
        if x < 0.55:
            _, d, _ = self.disorder()
            pre = c(['History of', 'Family history of', 'No history of', 'Suspected',
                     'History of recurrent', 'Risk of', 'At risk of'])
            t = '%s %s' % (pre, d)
            alts = [t, '%s: %s' % (pre, d), 'H/O %s' % d if pre == 'History of' else t + ' - context',
                    '%s %s (context)' % (pre, d)]
        else:
            _, p, _ = self.procedure()
            post = c(['not done', 'planned', 'declined', 'contraindicated', 'requested',
                      'not indicated', 'refused', 'deferred'])
            t = '%s %s' % (p, post)
            alts = [t, '%s - %s' % (p, post), '%s was %s' % (p, post)]
        return 'situation', t, alts

    def event(self):
        r, c = self.r, self.c
        e = c(EVENTS)
        ctx = c(EVENT_CTX)
        extra = (', %s' % c(['accidental', 'intentional', 'undetermined intent', 'occupational',
                              'recreational'])) if r() < 0.6 else ''
        t = '%s %s%s' % (e, ctx, extra)
        alts = [t, '%s %s' % (e, ctx), '%s %s - event' % (e, ctx)]
        return 'event', t, alts

    def social(self):
        r, c = self.r, self.c
        x = r()
        if x < 0.6:
            t = '%s%s' % (c(OCC_ADJ), c(OCCUPATIONS))
            t += ' - %s' % c(SPECIALTIES) if r() < 0.8 else ''
            alts = [t, t.replace(' - ', ' in '), 'occupation: ' + t]
            tag = 'occupation'
        else:
            rel = c(RELATIONS)
            t = '%s %s' % (c(['Lives with', 'Cared for by', 'Estranged from', 'Supported by',
                              'Lives near', 'Bereaved of']), rel)
            t += ' (%s)' % c(['elderly', 'young', 'unemployed', 'retired', 'disabled'])
            alts = [t, t.replace('(', '- ').replace(')', ''), t.lower()]
            tag = 'social concept'
        return tag, t, alts

    def environment(self):
        r, c = self.r, self.c
        if r() < 0.7:
            t = '%s %s' % (c(PLACE_Q), c(PLACES))
            if r() < 0.5:
                t += ' %s' % c(['unit', 'department', 'annex', 'wing', 'service'])
            alts = [t, t + ' environment', 'environment: ' + t]
            tag = 'environment'
        else:
            t = '%s %s %d' % (c(['North', 'South', 'East', 'West', 'Central', 'Upper', 'Lower']),
                              c(['Province', 'District', 'County', 'Region', 'Territory']),
                              self.ri(1, 500))
            alts = [t, t + ' (geographic)', 'region ' + t]
            tag = 'geographic location'
        return tag, t, alts

    def specimen(self):
        r, c = self.r, self.c
        sp = c(SPECIMENS)
        if r() < 0.6:
            site = self.site()
            t = '%s specimen from %s' % (sp, site)
            alts = [t, '%s %s specimen' % (site, sp.lower()), '%s sample from %s' % (sp, site)]
        else:
            a, _ = c(PROC_ACTIONS)
            t = '%s specimen obtained by %s' % (sp, a)
            alts = [t, '%s specimen - %s' % (sp, a), '%s sample by %s' % (sp, a)]
        return 'specimen', t, alts

    def staging(self):
        r, c = self.r, self.c
        t = '%s %s' % (c(SCALES), c(SCALE_KIND))
        if r() < 0.7:
            t += ' version %d.%d' % (self.ri(1, 9), self.ri(0, 9))
        alts = [t, t.replace(' version ', ' v'), t + ' - assessment']
        tag = c(['assessment scale', 'staging scale', 'tumor staging'])
        return tag, t, alts

    def record(self):
        r, c = self.r, self.c
        t = '%s - %s' % (c(RECORDS), c(SPECIALTIES))
        if r() < 0.5:
            t += ' %s' % c(['(electronic)', 'section', 'template', 'entry', 'summary'])
        alts = [t, t.replace(' - ', ' for '), t + ' record']
        return 'record artifact', t, alts

    def force(self):
        c = self.c
        t = '%s, %s' % (c(FORCES), c(FORCE_Q))
        if self.r() < 0.5:
            t += ' %d' % self.ri(1, 50)
        alts = [t, t.replace(', ', ' - '), t + ' exposure']
        return 'physical force', t, alts

    def special(self):
        c = self.c
        t = '%s navigational concept %d' % (_ucfirst(c(SITES)), self.ri(1, 99))
        alts = [t, t.replace('navigational concept', 'navigation'), t + ' (navigation)']
        return 'navigational concept', t, alts

    def meta(self):
        c = self.c
        t = '%s %s %d' % (c(META_WORDS), c(META_KIND), self.ri(1, 999))
        alts = [t, t + ' metadata', t.lower()]
        return 'foundation metadata concept', t, alts


class FrTerms:
    """French synonym generator (accented vocabulary)."""

    def __init__(self, rng):
        self.r = rng.random
        self.c = rng.choice

    def gen(self, kind, en_base):
        r, c = self.r, self.c
        if kind in (K_DISORDER, K_FINDING, K_MORPH, K_SIT):
            x = r()
            if x < 0.55:
                t = '%s %s' % (c(FR_BASES), c(FR_SITES))
                if r() < 0.7:
                    t += ' ' + c(FR_QUALS)
            elif x < 0.8:
                t = '%s %s' % (c(FR_NAMED), c(FR_QUALS))
            else:
                t = '%s avec %s' % (c(FR_NAMED), c(FR_COMPL))
            if kind == K_SIT:
                t = c(['antécédent de ', 'antécédent familial de ', 'suspicion de ']) + t
        elif kind in (K_PROC, K_ACTION, K_SPEC):
            t = '%s %s' % (c(FR_PROC), c(FR_SITES))
            if r() < 0.6:
                t += ' ' + c(FR_PROC_Q)
        elif kind == K_BODY:
            t = '%s %s' % (c(FR_BODY), c(FR_SITES))
            if r() < 0.3:
                t += ' ' + c(['gauche', 'droite', 'bilatérale', 'entière'])
        elif kind in (K_SUBST, K_PRODUCT):
            name = en_base.split(' ')[-1] if kind == K_SUBST else en_base
            pre = c(['chlorhydrate de ', 'sulfate de ', 'acétate de ', 'maléate de ', '',
                     'médicament contenant ', 'préparation à base de '])
            t = pre + (name[:1].lower() + name[1:])
        elif kind == K_ORG:
            t = '%s %s' % (c(['bactérie', 'espèce', 'souche', 'micro-organisme', 'sérotype']),
                           en_base)
        else:
            t = '%s %s' % (c(FR_GEN_NOUN), c(FR_GEN_ADJ))
            if r() < 0.5:
                t += ' ' + c(FR_SITES)
        return _ucfirst(t)


def gbize(term):
    out = term
    low = term.lower()
    for us, gb in AMERICAN_TO_BRITISH:
        if us in low and us != gb:
            out = out.replace(us, gb).replace(_ucfirst(us), _ucfirst(gb))
    return out


# --------------------------------------------------------------------------------------------
# Active is-a DAG
# --------------------------------------------------------------------------------------------
class Dag:
    pass


def choose_k(R, d, r, ri):
    if R == 0:
        return 0
    if d >= MAXD - 1:
        return R
    if R <= 3:
        return R if r() < 0.6 else ri(1, R)
    f = R ** KEXP if R <= 100 else 100 ** KEXP * (R / 100.0) ** 0.3
    k = int(f * (0.5 + r()))
    if k < 2:
        k = 2
    return R if k > R else k


def build_dag(A, scale, seed):
    rng = random.Random('%s/tree' % seed)
    r, ri, expo = rng.random, rng.randint, rng.expovariate
    g = Dag()
    g.A = A
    parent = array('i', [-1]) * A
    depth = bytearray(A)
    kind = bytearray(A)
    hier = bytearray(b'\xff') * A
    cstart = array('i', [0]) * A
    ccount = array('i', [0]) * A
    budget = array('i', [0]) * A
    fixed_of = {}        # node -> FIXED index
    fixed_node = {}      # sctid or FSN(for synthetic-id fixed) -> node
    children_spec = {}
    for fi, f in enumerate(FIXED):
        if f[2] is not None:
            children_spec.setdefault(f[2], []).append(fi)
    # fixed subtree sizes
    fsize = [1] * len(FIXED)
    for fi in range(len(FIXED) - 1, -1, -1):
        p = FIXED[fi][2]
        if p is not None:
            pi = [j for j, f in enumerate(FIXED) if f[0] == p][0]
            fsize[pi] += fsize[fi]

    kind[0] = K_ROOT
    budget[0] = A - 1
    fixed_of[0] = 0
    fixed_node[ROOT] = 0
    nxt = 1
    stack = [0]
    while stack:
        v = stack.pop()
        B = budget[v]
        d = depth[v]
        plan = []  # (budget, fixed index or -1)
        fi = fixed_of.get(v)
        if fi is not None and FIXED[fi][0] in children_spec:
            specs = children_spec[FIXED[fi][0]]
            if v == 0:
                tot_w = sum(FIXED[c][4][1] for c in specs)
                avail = B - len(specs)
                bs = []
                for c in specs:
                    bs.append(max(fsize[c] - 1, int(avail * FIXED[c][4][1] / tot_w)))
                bs[0] += avail - sum(bs)  # clinical finding absorbs rounding
                plan = list(zip(bs, specs))
            else:
                for c in specs:
                    spec = FIXED[c][4]
                    if spec is None:
                        b = 0
                    elif spec[0] == 'abs':
                        b = int(round(spec[1] * scale))
                    else:
                        b = int(B * spec[1])
                    plan.append((max(b, fsize[c] - 1), c))
        R = B - sum(b + 1 for b, _ in plan)
        if R < 0:
            raise SystemExit('--concepts too small for the fixed hierarchy')
        if v == 0:
            R = 0
        k = choose_k(R, d, r, ri)
        if k:
            rem = R - k
            if rem:
                # only some children become inner nodes; the rest are leaves
                m = max(1, min(k, int(k * (LEAF_Q[0] + LEAF_Q[1] * r()) + 0.5)))
                ws = [expo(1.0) ** SKEW for _ in range(m)]
                tw = sum(ws)
                bs = [int(rem * w / tw) for w in ws]
                left = rem - sum(bs)
                for _ in range(left):
                    bs[ri(0, m - 1)] += 1
                bs.extend([0] * (k - m))
                rng.shuffle(bs)
            else:
                bs = [0] * k
            plan.extend((b, -1) for b in bs)
        n = len(plan)
        if not n:
            continue
        cstart[v] = nxt
        ccount[v] = n
        kv = kind[v]
        hv = hier[v]
        for j, (b, fi2) in enumerate(plan):
            c = nxt + j
            parent[c] = v
            depth[c] = d + 1
            budget[c] = b
            if fi2 >= 0:
                kind[c] = FIXED[fi2][3]
                fixed_of[c] = fi2
                fixed_node[FIXED[fi2][0] or FIXED[fi2][1]] = c
            else:
                kind[c] = kv
            hier[c] = j if v == 0 else hv
            if b:
                stack.append(c)
        nxt += n
    assert nxt == A, (nxt, A)
    g.parent, g.depth, g.kind, g.hier = parent, depth, kind, hier
    g.cstart, g.ccount, g.budget = cstart, ccount, budget
    g.fixed_of, g.fixed_node = fixed_of, fixed_node
    g.tops = [cstart[0] + j for j in range(ccount[0])]
    g.meta_hier = hier[fixed_node['900000000000441003']]

    # nodes grouped by (hierarchy, depth)
    NH = len(g.tops)
    cnt = [0] * (NH * 16 + 1)
    for i in range(1, A):
        cnt[hier[i] * 16 + depth[i] + 1] += 1
    for j in range(1, len(cnt)):
        cnt[j] += cnt[j - 1]
    byhd = array('i', [0]) * A
    fill = cnt[:]
    for i in range(1, A):
        key = hier[i] * 16 + depth[i]
        byhd[fill[key]] = i
        fill[key] += 1
    g.byhd, g.hd_off = byhd, cnt
    # inner (non-leaf, non-fixed) tree nodes grouped by (hierarchy, depth): extra-parent pool
    inner = array('i')
    in_off = [0] * (NH * 16 + 1)
    for key in range(NH * 16):
        for x in range(cnt[key], cnt[key + 1]):
            j = byhd[x]
            if ccount[j] and j not in fixed_of:
                inner.append(j)
        in_off[key + 1] = len(inner)

    # extra parents (all at depth d-1 in the same hierarchy -> acyclic and non-redundant)
    eligible = sum(1 for i in range(1, A) if depth[i] >= 3 and i not in fixed_of
                   and hier[i] != g.meta_hier)
    p_multi = min(0.9, 0.30 * A / max(1, eligible))
    ex_off = array('i', [0]) * (A + 1)
    ex_par = array('i')
    for i in range(A):
        ex_off[i] = len(ex_par)
        if depth[i] < 3 or i in fixed_of or hier[i] == g.meta_hier or r() >= p_multi:
            continue
        x = r()
        m = 1 if x < 0.55 else (2 if x < 0.85 else 3)
        p = parent[i]
        gp = parent[p]
        chosen = [p]
        key = hier[i] * 16 + depth[i] - 1
        lo_h, hi_h = in_off[key], in_off[key + 1]
        if hi_h - lo_h < 2:
            continue
        for _ in range(m):
            for _try in range(12):
                if _try < 8 and r() < 0.75 and ccount[gp] > 1:
                    j = cstart[gp] + ri(0, ccount[gp] - 1)
                else:
                    j = inner[ri(lo_h, hi_h - 1)]
                if ccount[j] and j not in chosen and j not in fixed_of:
                    chosen.append(j)
                    ex_par.append(j)
                    break
    ex_off[A] = len(ex_par)
    g.ex_off, g.ex_par = ex_off, ex_par
    # CSR of extra children by parent
    E = len(ex_par)
    pc = array('i', [0]) * (A + 1)
    for j in ex_par:
        pc[j + 1] += 1
    for j in range(A):
        pc[j + 1] += pc[j]
    ex_ch = array('i', [0]) * E
    fill = pc[:A]
    fill = array('i', fill)
    for i in range(A):
        for e in range(ex_off[i], ex_off[i + 1]):
            j = ex_par[e]
            ex_ch[fill[j]] = i
            fill[j] += 1
    g.exc_off, g.ex_ch = pc, ex_ch
    return g


def descendants(g, v, mark=None):
    """Exact set size of active is-a descendants of v (excluding v)."""
    seen = bytearray(g.A) if mark is None else mark
    cstart, ccount, exc_off, ex_ch = g.cstart, g.ccount, g.exc_off, g.ex_ch
    stack = [v]
    n = 0
    touched = []
    while stack:
        x = stack.pop()
        s = cstart[x]
        for c in range(s, s + ccount[x]):
            if not seen[c]:
                seen[c] = 1
                touched.append(c)
                stack.append(c)
        for e in range(exc_off[x], exc_off[x + 1]):
            c = ex_ch[e]
            if not seen[c]:
                seen[c] = 1
                touched.append(c)
                stack.append(c)
    n = len(touched)
    for c in touched:
        seen[c] = 0
    return n


def ancestors(g, v):
    seen = set()
    stack = [v]
    while stack:
        x = stack.pop()
        ps = [g.parent[x]] + [g.ex_par[e] for e in range(g.ex_off[x], g.ex_off[x + 1])]
        for p in ps:
            if p >= 0 and p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------
class Out:
    def __init__(self, path, header):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.f = open(path, 'w', encoding='utf-8', newline='', buffering=1 << 20)
        self.f.write('\t'.join(header) + '\r\n')
        self.rows = 0
        self.buf = []

    def w(self, line):
        self.buf.append(line)
        if len(self.buf) >= 4096:
            self.f.write(''.join(self.buf))
            self.rows += len(self.buf)
            self.buf = []

    def close(self):
        self.f.write(''.join(self.buf))
        self.rows += len(self.buf)
        self.buf = []
        self.f.close()


def release_dates(et):
    y = int(et[:4])
    out = []
    for yy in range(2002, y + 1):
        for md in ('0131', '0731'):
            d = '%d%s' % (yy, md)
            if d < et:
                out.append(d)
    out.append(et)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    ap.add_argument('outdir')
    ap.add_argument('--concepts', type=int, default=370000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--fr', action='store_true', help='also write French extension descriptions')
    ap.add_argument('--effective-time', default='20250901')
    a = ap.parse_args(argv)
    if a.concepts < 2000:
        ap.error('--concepts must be >= 2000')
    et = a.effective_time
    if len(et) != 8 or not et.isdigit():
        ap.error('--effective-time must be YYYYMMDD')
    t0 = time.time()
    N = a.concepts
    scale = N / 370000.0
    seed = a.seed
    I = int(round(N * 0.05))
    A = N - I
    for f in FIXED:
        if f[0]:
            assert verhoeff_ok(f[0]), f[0]

    def log(msg):
        print('[%6.1fs] %s' % (time.time() - t0, msg), file=sys.stderr, flush=True)

    g = build_dag(A, scale, seed)
    log('active DAG: %d nodes, %d extra parents' % (A, len(g.ex_par)))
    parent, depth, kind, hier = g.parent, g.depth, g.kind, g.hier
    cstart, ccount, budget = g.cstart, g.ccount, g.budget
    fixed_of, fixed_node = g.fixed_of, g.fixed_node
    tops = g.tops
    meta_h = g.meta_hier

    def subtree_range(node):
        return cstart[node], cstart[node] + budget[node]

    # ---------------- inactive concepts ----------------
    rng_in = random.Random('%s/inactive' % seed)
    r_in, ri_in = rng_in.random, rng_in.randint
    top_w = [FIXED[fixed_of[t]][4][1] for t in tops]
    top_w[meta_h] = 0.0
    hier_choices = rng_in.choices(range(len(tops)), weights=top_w, k=I)
    in_par = array('i', [0]) * (2 * I)
    in_kind = bytearray(I)
    in_repl = array('i', [-1]) * I
    for q in range(I):
        h = hier_choices[q]
        lo, hi = subtree_range(tops[h])
        p1 = ri_in(lo, hi - 1) if hi > lo else tops[h]
        p2 = ri_in(lo, hi - 1) if (hi > lo and r_in() < 0.4) else -1
        if p2 == p1:
            p2 = -1
        in_par[2 * q] = p1
        in_par[2 * q + 1] = p2
        in_kind[q] = kind[p1]
        if r_in() < 0.6:
            x = r_in()
            if x < 0.5 and ccount[p1]:
                t = cstart[p1] + ri_in(0, ccount[p1] - 1)
            elif x < 0.8:
                t = p1
            else:
                t = ri_in(lo, hi - 1) if hi > lo else p1
            in_repl[q] = t

    # ---------------- identifiers ----------------
    rng_id = random.Random('%s/ids' % seed)
    cmk = IdMaker('00')
    synth = [i for i in range(A) if i not in fixed_of or FIXED[fixed_of[i]][0] is None]
    nsyn = len(synth) + I
    seqs = rng_id.sample(range(1000000, 1000000 + 3 * N), nsyn)
    cid = [None] * N
    for i in fixed_of:
        if FIXED[fixed_of[i]][0]:
            cid[i] = FIXED[fixed_of[i]][0]
    si = 0
    for i in synth:
        cid[i] = cmk(seqs[si])
        si += 1
    for i in range(A, N):
        cid[i] = cmk(seqs[si])
        si += 1
    del seqs, synth
    order = sorted(range(N), key=lambda i: int(cid[i]))
    log('ids assigned')

    def node_kind(i):
        return kind[i] if i < A else in_kind[i - A]

    def node_hier(i):
        if i < A:
            return hier[i]
        return hier[in_par[2 * (i - A)]]

    # ---------------- probes ----------------
    mark = bytearray(A)
    t100k, t10k = 100000 * scale, 10000 * scale
    t100 = 100.0 if N >= 20000 else max(10.0, 100 * scale * 10)

    def best_probe(target, preferred):
        cands = []
        for fid in preferred:
            if fid in fixed_node:
                cands.append(fixed_node[fid])
        # tree subtree size is a lower bound (cross-links only add descendants)
        near = [i for i in range(1, A) if 0.4 * target <= budget[i] <= 1.05 * target
                and hier[i] != meta_h]
        near.sort(key=lambda i: (abs(budget[i] - 0.9 * target), i))
        cands.extend(near[:max(20, int(3e6 / max(1.0, target)))])
        best = None
        for ci, cnd in enumerate(cands):
            n = descendants(g, cnd, mark)
            if ci < len(preferred) and abs(n - target) <= 0.15 * target:
                return cnd, n  # the designated hub is close enough
            if best is None or abs(n - target) < abs(best[1] - target):
                best = (cnd, n)
                if n == int(round(target)):
                    break
        return best

    p100k = best_probe(t100k, ['64572001'])
    p10k = best_probe(t10k, ['49601007'])
    p100 = best_probe(t100, [])
    hub_counts = {}
    for fid in [f[0] for f in FIXED if f[2] == ROOT] + ['64572001', '49601007', '442083009',
                                                          '49755003', '129264002']:
        hub_counts[fid] = descendants(g, fixed_node[fid], mark)
    disease = fixed_node['64572001']
    dlo, dhi = subtree_range(disease)
    rng_p = random.Random('%s/probes' % seed)
    leaves = []
    for _ in range(200000):
        i = rng_p.randint(dlo, dhi - 1)
        if ccount[i] == 0 and g.exc_off[i] == g.exc_off[i + 1] and depth[i] >= 6:
            leaves.append(i)
            if len(leaves) == 2:
                break
    leaf, leaf2 = leaves[0], leaves[1]
    leaf_anc = ancestors(g, leaf)
    anc_b = leaf
    for _ in range(3):
        anc_b = parent[anc_b]
    while leaf2 in leaf_anc or leaf2 == leaf:
        leaf2 += 1
    log('probes chosen')

    # ---------------- output files ----------------
    base = os.path.join(a.outdir, 'SnomedCT_SyntheticRF2_%s' % et)
    snap = os.path.join(base, 'Snapshot')
    files = {}

    def out(key, rel, header):
        o = Out(os.path.join(snap, rel), header)
        files[key] = o
        return o

    dates = release_dates(et)
    nd = len(dates)
    latest = nd - 1

    # concepts
    rng_c = random.Random('%s/concepts' % seed)
    rc = rng_c.random
    fc = out('concept', 'Terminology/sct2_Concept_Snapshot_INT_%s.txt' % et,
             ['id', 'effectiveTime', 'active', 'moduleId', 'definitionStatusId'])
    dstat_p = {K_DISORDER: 0.3, K_PROC: 0.3, K_FINDING: 0.15, K_BODY: 0.1, K_PRODUCT: 0.4,
               K_SIT: 0.5}
    n_defined = 0
    for i in order:
        x = rc()
        dt = dates[latest if x < 0.12 else int(rc() * nd)]
        if i < A:
            if i not in fixed_of and rc() < dstat_p.get(kind[i], 0.0):
                ds = DEFINED
                n_defined += 1
            else:
                ds = PRIMITIVE
            fc.w('%s\t%s\t1\t%s\t%s\r\n' % (cid[i], dt, CORE_MODULE, ds))
        else:
            fc.w('%s\t%s\t0\t%s\t%s\r\n' % (cid[i], dt, CORE_MODULE, PRIMITIVE))
    fc.close()
    log('concepts written')

    # descriptions + language refsets (+ French)
    rng_d = random.Random('%s/descriptions' % seed)
    rd = rng_d.random
    rng_l = random.Random('%s/language' % seed)
    lbits = rng_l.getrandbits
    en = EnTerms(rng_d)
    dmk = IdMaker('01')
    dseq = 1000000
    fd = out('desc_en', 'Terminology/sct2_Description_Snapshot-en_INT_%s.txt' % et,
             ['id', 'effectiveTime', 'active', 'moduleId', 'conceptId', 'languageCode', 'typeId',
              'term', 'caseSignificanceId'])
    fl = out('lang_en', 'Refset/Language/der2_cRefset_LanguageSnapshot-en_INT_%s.txt' % et,
             ['id', 'effectiveTime', 'active', 'moduleId', 'refsetId', 'referencedComponentId',
              'acceptabilityId'])
    if a.fr:
        rng_f = random.Random('%s/french' % seed)
        rf = rng_f.random
        fbits = rng_f.getrandbits
        frt = FrTerms(rng_f)
        fmk = IdMaker('100031511')
        fseq = 1000
        ffd = out('desc_fr', 'Terminology/sct2_Description_Snapshot-fr_INT_%s.txt' % et,
                  ['id', 'effectiveTime', 'active', 'moduleId', 'conceptId', 'languageCode',
                   'typeId', 'term', 'caseSignificanceId'])
        ffl = out('lang_fr', 'Refset/Language/der2_cRefset_LanguageSnapshot-fr_INT_%s.txt' % et,
                  ['id', 'effectiveTime', 'active', 'moduleId', 'refsetId',
                   'referencedComponentId', 'acceptabilityId'])
    seen_fsn = set()
    probe_nodes = {p100k[0], p10k[0], p100[0], leaf, leaf2, anc_b}
    probe_terms = {}
    fr_probe = None
    p_inact_desc = 0.36
    n_desc_inactive = 0
    gen = en.gens
    for i in order:
        c = cid[i]
        k = node_kind(i)
        fi = fixed_of.get(i) if i < A else None
        if fi is not None:
            fsn = FIXED[fi][1]
            tbase = fsn[:fsn.rindex(' (')]
            syns = [tbase] + FIXED_SYNONYMS.get(FIXED[fi][0], [tbase + ' concept'])
            nsyn_ = len(syns)
        else:
            for attempt in range(4):
                tag, tbase, alts = gen[k]()
                tbase = _ucfirst(tbase)
                fsn = '%s (%s)' % (tbase, tag)
                if fsn not in seen_fsn:
                    break
            else:
                n_ = 2
                while '%s variant %d (%s)' % (tbase, n_, tag) in seen_fsn:
                    n_ += 1
                tbase = '%s variant %d' % (tbase, n_)
                fsn = '%s (%s)' % (tbase, tag)
                alts = [tbase] + alts[1:]
            seen_fsn.add(fsn)
            x = rd()
            nsyn_ = 2 if x < 0.3 else (3 if x < 0.7 else 4)
            syns = []
            for s_ in alts:
                s_ = _ucfirst(s_)
                if s_ not in syns:
                    syns.append(s_)
            syns[0] = tbase
            while len(syns) < nsyn_:
                syns.append('%s NOS' % syns[len(syns) - 2] if len(syns) > 1 else tbase + ' NOS')
            syns = syns[:nsyn_]
        if i in probe_nodes:
            probe_terms[i] = fsn
        gb = gbize(syns[0])
        gb_idx = 0
        if gb != syns[0]:
            if gb in syns:
                gb_idx = syns.index(gb)
            else:
                if len(syns) >= 4:
                    syns[-1] = gb
                else:
                    syns.append(gb)
                gb_idx = len(syns) - 1
        x = rd()
        dt_c = dates[latest if x < 0.1 else int(rd() * nd)]
        # FSN
        did = dmk(dseq)
        dseq += 1
        fd.w('%s\t%s\t1\t%s\t%s\ten\t%s\t%s\t%s\r\n' % (did, dt_c, CORE_MODULE, c, FSN_TYPE, fsn,
                                                     CASE_INS))
        fl.w('%s\t%s\t1\t%s\t%s\t%s\t%s\r\n' % (uuid4_str(lbits), dt_c, CORE_MODULE, US_REFSET,
                                               did, PREFERRED))
        fl.w('%s\t%s\t1\t%s\t%s\t%s\t%s\r\n' % (uuid4_str(lbits), dt_c, CORE_MODULE, GB_REFSET,
                                               did, PREFERRED))
        for si_, s_ in enumerate(syns):
            did = dmk(dseq)
            dseq += 1
            dt = dt_c if rd() < 0.7 else dates[int(rd() * nd)]
            fd.w('%s\t%s\t1\t%s\t%s\ten\t%s\t%s\t%s\r\n' % (did, dt, CORE_MODULE, c, SYN_TYPE,
                                                         s_, CASE_INS))
            if gb_idx == 0 or si_ != gb_idx:
                fl.w('%s\t%s\t1\t%s\t%s\t%s\t%s\r\n' % (
                    uuid4_str(lbits), dt, CORE_MODULE, US_REFSET, did,
                    PREFERRED if si_ == 0 else ACCEPTABLE))
            fl.w('%s\t%s\t1\t%s\t%s\t%s\t%s\r\n' % (
                uuid4_str(lbits), dt, CORE_MODULE, GB_REFSET, did,
                PREFERRED if si_ == gb_idx else ACCEPTABLE))
        if rd() < p_inact_desc:
            did = dmk(dseq)
            dseq += 1
            dt = dates[int(rd() * nd)]
            if rd() < 0.2:
                typ, t_ = FSN_TYPE, '%s - retired (%s)' % (tbase, 'disorder' if k == K_DISORDER
                                                           else 'finding')
            else:
                typ, t_ = SYN_TYPE, '%s - obsolete term %d' % (syns[-1], int(rd() * 90) + 10)
            fd.w('%s\t%s\t0\t%s\t%s\ten\t%s\t%s\t%s\r\n' % (did, dt, CORE_MODULE, c, typ, t_,
                                                         CASE_INS))
            n_desc_inactive += 1
            for rs in (US_REFSET, GB_REFSET):
                fl.w('%s\t%s\t0\t%s\t%s\t%s\t%s\r\n' % (uuid4_str(lbits), dt, CORE_MODULE, rs,
                                                       did, ACCEPTABLE))
        if a.fr and rf() < 0.8:
            nfr = 1 if rf() < 0.5 else 2
            dt = dates[latest if rf() < 0.3 else int(rf() * nd)]
            prev = None
            for j in range(nfr):
                t_ = frt.gen(k, tbase)
                if t_ == prev:
                    t_ += ' ' + FR_QUALS[j]
                prev = t_
                did = fmk(fseq)
                fseq += 1
                ffd.w('%s\t%s\t1\t%s\t%s\tfr\t%s\t%s\t%s\r\n' % (did, dt, FR_MODULE, c, SYN_TYPE,
                                                              t_, CASE_INS))
                ffl.w('%s\t%s\t1\t%s\t%s\t%s\t%s\r\n' % (
                    uuid4_str(fbits), dt, FR_MODULE, FR_REFSET, did,
                    PREFERRED if j == 0 else ACCEPTABLE))
                if fr_probe is None and i < A and fi is None and k == K_DISORDER and \
                        FR_ACCENTS.intersection(t_):
                    fr_probe = {'conceptId': c, 'descriptionId': did, 'term': t_,
                                'fsn': fsn}
    del seen_fsn
    fd.close()
    fl.close()
    if a.fr:
        ffd.close()
        ffl.close()
    log('descriptions written')

    # relationships
    rng_r = random.Random('%s/relationships' % seed)
    rr, rri = rng_r.random, rng_r.randint
    rmk = IdMaker('02')
    rseq = 1000000
    fr_ = out('rel', 'Terminology/sct2_Relationship_Snapshot_INT_%s.txt' % et,
              ['id', 'effectiveTime', 'active', 'moduleId', 'sourceId', 'destinationId',
               'relationshipGroup', 'typeId', 'characteristicTypeId', 'modifierId'])
    anat = subtree_range(fixed_node['442083009'])
    morph = subtree_range(fixed_node['49755003'])
    action = subtree_range(fixed_node['129264002'])
    org = subtree_range(fixed_node['410607006'])
    subst = subtree_range(fixed_node['105590001'])

    def pick(rng_):
        lo, hi = rng_
        return rri(lo, hi - 1) if hi > lo else lo - 1

    def agent():
        return pick(org) if rr() < 0.5 else pick(subst)

    n_kind = [0] * 24
    for i in range(A):
        n_kind[kind[i]] += 1
    n_in_attr_kinds = sum(1 for q in range(I) if in_kind[q] in (K_DISORDER, K_FINDING, K_PROC))
    active_isa = (A - 1) + len(g.ex_par)
    in_isa = sum(1 for q in range(I) for j in (0, 1) if in_par[2 * q + j] >= 0)
    tgt_isa = int(round(1200000 * scale))
    hist_elig = sum(1 for i in range(A) if depth[i] >= 2 and i not in fixed_of)
    hist_mean = max(0.0, (tgt_isa - active_isa - in_isa) / max(1, hist_elig))
    exp_active_attr = (n_kind[K_DISORDER] * (0.15 + 1.5 * 1.95) + n_kind[K_FINDING] * 1.1 +
                       n_kind[K_PROC] * 1.45 * 2.0)
    exp_in_conc_attr = n_in_attr_kinds * 1.5
    tgt_total = int(round(3000000 * scale))
    attr_elig = n_kind[K_DISORDER] + n_kind[K_FINDING] + n_kind[K_PROC]
    attr_hist_mean = max(0.0, (tgt_total - tgt_isa - exp_active_attr - exp_in_conc_attr) /
                         max(1, attr_elig))
    hm_i, hm_f = int(hist_mean), hist_mean - int(hist_mean)
    am_i, am_f = int(attr_hist_mean), attr_hist_mean - int(attr_hist_mean)
    ATTR_TYPES = (FINDING_SITE, ASSOC_MORPH, CAUSATIVE_AGENT, METHOD)
    counts = {'isa_active': 0, 'isa_inactive': 0, 'attr_active': 0, 'attr_inactive': 0}
    ROW = '%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\r\n'
    w = fr_.w
    ex_off, ex_par = g.ex_off, g.ex_par
    for i in order:
        c = cid[i]
        if i < A:
            if i == 0:
                continue
            k = kind[i]
            d = depth[i]
            dt_c = dates[latest if rr() < 0.15 else int(rr() * nd)]
            ps = [parent[i]]
            for e in range(ex_off[i], ex_off[i + 1]):
                ps.append(ex_par[e])
            for p in ps:
                w(ROW % (rmk(rseq), dt_c, 1, CORE_MODULE, c, cid[p], 0, ISA, INFERRED,
                         EXISTENTIAL))
                rseq += 1
            counts['isa_active'] += len(ps)
            if i in fixed_of:
                continue
            # historical (inactive) is-a rows
            nh = hm_i + (1 if rr() < hm_f else 0)
            if nh and d >= 2:
                lo, hi = subtree_range(tops[hier[i]])
                for _ in range(nh):
                    j = rri(lo, hi - 1)
                    if depth[j] >= d:
                        j = parent[parent[i]] if d >= 3 else parent[i]
                    w(ROW % (rmk(rseq), dates[int(rr() * nd)], 0, CORE_MODULE, c, cid[j], 0, ISA,
                             INFERRED, EXISTENTIAL))
                    rseq += 1
                counts['isa_inactive'] += nh
            # active attributes
            if k == K_DISORDER:
                rows = []
                if rr() < 0.15:
                    rows.append((0, CAUSATIVE_AGENT, agent()))
                x = rr()
                ng = 1 if x < 0.6 else (2 if x < 0.9 else 3)
                for grp in range(1, ng + 1):
                    n0 = len(rows)
                    if rr() < 0.95:
                        rows.append((grp, FINDING_SITE, pick(anat)))
                    if rr() < 0.85:
                        rows.append((grp, ASSOC_MORPH, pick(morph)))
                    if rr() < 0.15:
                        rows.append((grp, CAUSATIVE_AGENT, agent()))
                    if len(rows) == n0:
                        rows.append((grp, FINDING_SITE, pick(anat)))
            elif k == K_FINDING:
                rows = []
                if rr() < 0.9:
                    rows.append((1, FINDING_SITE, pick(anat)))
                if rr() < 0.2:
                    rows.append((1, ASSOC_MORPH, pick(morph)))
            elif k == K_PROC:
                rows = []
                x = rr()
                ng = 1 if x < 0.65 else (2 if x < 0.9 else 3)
                for grp in range(1, ng + 1):
                    rows.append((grp, METHOD, pick(action)))
                    if rr() < 0.9:
                        rows.append((grp, FINDING_SITE, pick(anat)))
                    if rr() < 0.1:
                        rows.append((grp, ASSOC_MORPH, pick(morph)))
            else:
                continue
            for grp, typ, dst in rows:
                w(ROW % (rmk(rseq), dt_c, 1, CORE_MODULE, c, cid[dst], grp, typ, INFERRED,
                         EXISTENTIAL))
                rseq += 1
            counts['attr_active'] += len(rows)
            na = am_i + (1 if rr() < am_f else 0)
            for _ in range(na):
                typ = ATTR_TYPES[int(rr() * 4)]
                dst = (pick(anat) if typ == FINDING_SITE else pick(morph) if typ == ASSOC_MORPH
                       else agent() if typ == CAUSATIVE_AGENT else pick(action))
                w(ROW % (rmk(rseq), dates[int(rr() * nd)], 0, CORE_MODULE, c, cid[dst],
                         int(rr() * 4), typ, INFERRED, EXISTENTIAL))
                rseq += 1
            counts['attr_inactive'] += na
        else:
            q = i - A
            dt = dates[int(rr() * nd)]
            for j in (0, 1):
                p = in_par[2 * q + j]
                if p >= 0:
                    w(ROW % (rmk(rseq), dt, 0, CORE_MODULE, c, cid[p], 0, ISA, INFERRED,
                             EXISTENTIAL))
                    rseq += 1
                    counts['isa_inactive'] += 1
            if in_kind[q] in (K_DISORDER, K_FINDING, K_PROC):
                na = rri(0, 3)
                for _ in range(na):
                    typ = ATTR_TYPES[int(rr() * 4)]
                    dst = (pick(anat) if typ == FINDING_SITE else pick(morph)
                           if typ == ASSOC_MORPH else agent() if typ == CAUSATIVE_AGENT
                           else pick(action))
                    w(ROW % (rmk(rseq), dt, 0, CORE_MODULE, c, cid[dst], rri(0, 3), typ,
                             INFERRED, EXISTENTIAL))
                    rseq += 1
                counts['attr_inactive'] += na
    fr_.close()
    log('relationships written')

    # extended map (ICD-10-like)
    rng_m = random.Random('%s/map' % seed)
    rm, rmi = rng_m.random, rng_m.randint
    mbits = rng_m.getrandbits
    fm = out('map', 'Refset/Map/der2_iisssccRefset_ExtendedMapSnapshot_INT_%s.txt' % et,
             ['id', 'effectiveTime', 'active', 'moduleId', 'refsetId', 'referencedComponentId',
              'mapGroup', 'mapPriority', 'mapRule', 'mapAdvice', 'mapTarget', 'correlationId',
              'mapCategoryId'])
    n_find = n_kind[K_DISORDER] + n_kind[K_FINDING]
    p_map = min(1.0, 100000 * scale / max(1, n_find))
    cv = fixed_node['49601007']
    cvlo, cvhi = subtree_range(cv)
    letters = 'ABCDEFGHJKLMNQRST'
    map_probe = None
    n_mapped = 0
    MROW = '%s\t%s\t1\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\r\n'
    age_rule = ('IFA %s | Age at onset of clinical finding (observable entity) | < 18.0 years'
                % AGE_AT_ONSET)

    def code(i):
        L = 'I' if cvlo <= i < cvhi else letters[int(rm() * len(letters))]
        if L == 'E' and rm() < 0.3:
            return 'E11.%d' % rmi(0, 9)
        if rm() < 0.7:
            return '%s%02d.%d' % (L, rmi(0, 99), rmi(0, 9))
        return '%s%02d' % (L, rmi(0, 99))

    for i in order:
        if i >= A or kind[i] not in (K_DISORDER, K_FINDING) or i in fixed_of:
            continue
        if rm() >= p_map:
            continue
        n_mapped += 1
        c = cid[i]
        dt = dates[latest if rm() < 0.2 else int(rm() * nd)]
        x = rm()
        targets = []
        if x < 0.70:
            t1 = code(i)
            fm.w(MROW % (uuid4_str(mbits), dt, CORE_MODULE, MAP_REFSET, c, 1, 1, 'TRUE',
                         'ALWAYS ' + t1, t1, CORR_NOT_SPECIFIED, CAT_PROPERLY))
            targets.append(t1)
        elif x < 0.85:
            t1, t2 = code(i), code(i)
            fm.w(MROW % (uuid4_str(mbits), dt, CORE_MODULE, MAP_REFSET, c, 1, 1, 'TRUE',
                         'ALWAYS ' + t1, t1, CORR_NOT_SPECIFIED, CAT_PROPERLY))
            fm.w(MROW % (uuid4_str(mbits), dt, CORE_MODULE, MAP_REFSET, c, 2, 1, 'TRUE',
                         'ALWAYS ' + t2, t2, CORR_NOT_SPECIFIED, CAT_PROPERLY))
            targets += [t1, t2]
        elif x < 0.95:
            t1, t2 = code(i), code(i)
            fm.w(MROW % (uuid4_str(mbits), dt, CORE_MODULE, MAP_REFSET, c, 1, 1, age_rule,
                         'IF AGE AT ONSET OF CLINICAL FINDING BEFORE 18.0 YEARS CHOOSE %s | MAP '
                         'OF SOURCE CONCEPT IS CONTEXT DEPENDENT' % t1, t1, CORR_NOT_SPECIFIED,
                         CAT_CONTEXT))
            fm.w(MROW % (uuid4_str(mbits), dt, CORE_MODULE, MAP_REFSET, c, 1, 2, 'OTHERWISE TRUE',
                         'ALWAYS ' + t2, t2, CORR_NOT_SPECIFIED, CAT_PROPERLY))
            targets += [t1, t2]
        else:
            fm.w(MROW % (uuid4_str(mbits), dt, CORE_MODULE, MAP_REFSET, c, 1, 1, 'TRUE',
                         'MAP SOURCE CONCEPT CANNOT BE CLASSIFIED WITH AVAILABLE DATA', '',
                         CORR_NOT_SPECIFIED, CAT_CANNOT))
        if map_probe is None and len(targets) == 2 and targets[0] != targets[1] and x < 0.85:
            map_probe = {'conceptId': c, 'targets': targets}
    fm.close()
    log('map written')

    # simple refsets
    rng_s = random.Random('%s/simple' % seed)
    sbits = rng_s.getrandbits
    fs = out('simple', 'Refset/Content/der2_Refset_SimpleSnapshot_INT_%s.txt' % et,
             ['id', 'effectiveTime', 'active', 'moduleId', 'refsetId', 'referencedComponentId'])
    synth_refsets = [cid[fixed_node[f[1]]] for f in FIXED if f[0] is None]
    pool = [i for i in range(1, A) if hier[i] != meta_h]
    simple_info = {}
    for rs, size in zip(synth_refsets, (max(10, int(round(1000 * scale))),
                                        max(50, int(round(20000 * scale))))):
        mem = sorted(rng_s.sample(pool, size), key=lambda i: int(cid[i]))
        for i in mem:
            fs.w('%s\t%s\t1\t%s\t%s\t%s\r\n' % (uuid4_str(sbits), dates[int(rng_s.random() * nd)],
                                               CORE_MODULE, rs, cid[i]))
        simple_info[rs] = {'members': size, 'example_member': cid[mem[0]]}
    fs.close()
    del pool

    # association refset (REPLACED BY)
    rng_a = random.Random('%s/association' % seed)
    abits = rng_a.getrandbits
    fa = out('assoc', 'Refset/Content/der2_cRefset_AssociationSnapshot_INT_%s.txt' % et,
             ['id', 'effectiveTime', 'active', 'moduleId', 'refsetId', 'referencedComponentId',
              'targetComponentId'])
    inactive_probe = None
    for i in order:
        if i < A:
            continue
        t = in_repl[i - A]
        if t < 0:
            continue
        fa.w('%s\t%s\t1\t%s\t%s\t%s\t%s\r\n' % (uuid4_str(abits), dates[int(rng_a.random() * nd)],
                                               CORE_MODULE, REPLACED_BY, cid[i], cid[t]))
        if inactive_probe is None:
            inactive_probe = {'conceptId': cid[i], 'replacedBy': cid[t]}
    fa.close()
    log('refsets written')

    # ---------------- meta.json ----------------
    dh = [0] * (MAXD + 1)
    leaves_n = 0
    exc_off = g.exc_off
    for i in range(A):
        dh[depth[i]] += 1
        if ccount[i] == 0 and exc_off[i] == exc_off[i + 1]:
            leaves_n += 1
    nparents = [0] * 5
    for i in range(1, A):
        nparents[min(4, 1 + ex_off[i + 1] - ex_off[i])] += 1

    def probe(i, n, target):
        return {'conceptId': cid[i], 'fsn': probe_terms.get(i), 'descendantCount': n,
                'target': int(round(target))}

    leaf_anc_ids = sorted(cid[x] for x in leaf_anc)
    meta = {
        'generator': 'gen_rf2.py', 'seed': seed, 'concepts': N, 'effectiveTime': et,
        'french': bool(a.fr), 'release_dir': os.path.basename(base),
        'files': {os.path.relpath(o.path, base): o.rows for o in files.values()},
        'counts': {
            'concepts_active': A, 'concepts_inactive': I, 'concepts_defined': n_defined,
            'isa_active': counts['isa_active'], 'isa_inactive': counts['isa_inactive'],
            'attribute_active': counts['attr_active'],
            'attribute_inactive': counts['attr_inactive'],
            'descriptions_en_inactive': n_desc_inactive, 'mapped_concepts': n_mapped,
            'replaced_by': sum(1 for q in range(I) if in_repl[q] >= 0),
        },
        'shape': {
            'max_depth': max(d for d in range(MAXD + 1) if dh[d]),
            'depth_histogram': dh, 'active_leaves': leaves_n,
            'parents_histogram_1_2_3_4plus': nparents[1:],
            'multi_parent_fraction': round(sum(nparents[2:]) / max(1, A - 1), 4),
            'max_children': max(ccount[i] + exc_off[i + 1] - exc_off[i] for i in range(A)),
            'descendant_counts_fixed': {'%s|%s' % (k_, FIXED[fixed_of[fixed_node[k_]]][1]): v_
                                        for k_, v_ in hub_counts.items()},
        },
        'refsets': {'us_language': US_REFSET, 'gb_language': GB_REFSET,
                    'fr_language': FR_REFSET if a.fr else None, 'fr_module': FR_MODULE,
                    'icd10_map': MAP_REFSET, 'replaced_by': REPLACED_BY,
                    'simple': simple_info},
        'probes': {
            'root': ROOT,
            'descendants_100k': probe(p100k[0], p100k[1], t100k),
            'descendants_10k': probe(p10k[0], p10k[1], t10k),
            'descendants_100': probe(p100[0], p100[1], t100),
            'leaf': {'conceptId': cid[leaf], 'fsn': probe_terms.get(leaf), 'descendantCount': 0,
                     'depth': depth[leaf], 'parents': [cid[parent[leaf]]] + [
                         cid[ex_par[e]] for e in range(ex_off[leaf], ex_off[leaf + 1])],
                     'ancestorCount': len(leaf_anc), 'ancestors': leaf_anc_ids},
            'subsumes': {'ancestor': cid[anc_b], 'descendant': cid[leaf],
                         'ancestor_fsn': probe_terms.get(anc_b), 'levels_apart': 3},
            'unrelated': {'a': cid[leaf], 'b': cid[leaf2], 'b_fsn': probe_terms.get(leaf2),
                          'note': 'neither subsumes the other (both active leaves of Disease)'},
            'inactive': inactive_probe,
            'french': fr_probe,
            'mapped': map_probe,
        },
        'seconds': round(time.time() - t0, 1),
    }
    with open(os.path.join(base, 'meta.json'), 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write('\n')
    log('done: %s' % base)
    return 0


if __name__ == '__main__':
    sys.exit(main())
