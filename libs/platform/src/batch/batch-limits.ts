/** Items one batch request may carry: bounds its size, its time and what one failure of the whole request costs. */
export const BATCH_MAX_ITEMS = 100;
