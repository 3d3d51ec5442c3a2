/** The browser core's gzip size budget in bytes (see budget.mjs). */
export declare const CORE_GZIP_BUDGET: number;
