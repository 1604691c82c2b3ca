/** A package as every service sees it: the gateway accepts only what the package service stores and the scheduler plans for. */
export const PACKAGE_SIZES = ['Small', 'Medium', 'Large'] as const;
export type PackageSize = (typeof PACKAGE_SIZES)[number];

/** Kilograms; at most three decimals (grams), so sums are exact after rounding to grams. */
export const MAX_WEIGHT_KG = 1_000;
export const WEIGHT_DECIMALS = 3;
export const MAX_TAG_LENGTH = 128;
