export function ptbTokenize(captions: string[]): string[] { return captions; }
