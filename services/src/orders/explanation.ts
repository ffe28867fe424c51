/** Why an offer went where it went, stored with the offer and shown to the brand. */
export interface OfferExplanation {
  solver: { status: string; objectiveMinor: number; boundMinor: number; millis: number };
  factory: {
    qualityScore: number;
    firstPassYield: number | null;
    defectPpm: number | null;
    unitCostMinor: number;
    minBatch: number;
  };
  why: string;
  binding: { constraint: 'capacity' | 'certificate' | 'min_batch' | 'due_date'; detail: string }[];
  weeks: { week: string; quantity: number; late: boolean }[];
  alternatives: { factoryMspId: string; reason: string; detail: string }[];
}
