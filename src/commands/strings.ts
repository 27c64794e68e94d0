import type { HandlerMap } from "./types.ts";

export const handlers: HandlerMap = {};
