export declare function median(values: number[]): number;
export declare function percentile(sorted: number[], p: number): number;
export declare function round(value: number, digits: number): number;
