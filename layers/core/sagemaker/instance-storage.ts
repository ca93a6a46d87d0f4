/**
 * Which SageMaker instance types store ML data on local NVMe instance storage instead of an EBS
 * volume. SageMaker rejects a KMS key for the storage volume on those types (training
 * ResourceConfig.VolumeKmsKeyId, endpoint config KmsKeyId): local NVMe is encrypted by the
 * instance's hardware module, and no volume is provisioned for the key to encrypt.
 *
 * The rule (no API model lists it; it follows EC2 instance naming and the SageMaker docs):
 * - a family whose attribute letters contain `d` has local disks: c5d, m5d, r5d, c6gd, m6gd, r6gd,
 *   r7gd, g4dn, p3dn, p4d, p4de;
 * - plus the accelerator families that ship with NVMe only: g5, g6, g6e, g7, g7e, p5, p5e, p5en,
 *   the p6 families, trn1, trn1n, trn2, dl1.
 * Anything else (c5, m5, p3, inf1, inf2, ...) is EBS-backed and takes a volume key.
 * Verify g7/g7e when AWS documents them: they are listed by analogy with g6e.
 */

const NVME_ONLY_FAMILIES = new Set([
  'g5',
  'g6',
  'g6e',
  'g7',
  'g7e',
  'p5',
  'p5e',
  'p5en',
  'trn1',
  'trn1n',
  'trn2',
  'dl1',
]);

/** `ml.g5.xlarge` -> `g5`; undefined when the name has no family part. */
export function instanceFamily(instanceType: string): string | undefined {
  const match = /^ml\.([a-z0-9-]+)\./.exec(instanceType);
  return match?.[1];
}

/** True when the instance type keeps its ML storage on local instance storage (no EBS volume). */
export function usesInstanceStorage(instanceType: string): boolean {
  const family = instanceFamily(instanceType);
  if (family === undefined) return false;
  if (NVME_ONLY_FAMILIES.has(family) || family.startsWith('p6')) return true;
  // Family = letters, generation digits, attribute letters (`c6gd` -> `gd`, `p4de` -> `de`).
  const attributes = /^[a-z]+\d+([a-z]*)$/.exec(family)?.[1] ?? '';
  return attributes.includes('d');
}
