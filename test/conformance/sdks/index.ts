import type { SdkRecord } from '../types.ts';
import { javascript } from './javascript.ts';
import { python } from './python.ts';
import { kotlin } from './kotlin.ts';
import { swift } from './swift.ts';
import { go } from './go.ts';
import { csharp } from './csharp.ts';
import { dart } from './dart.ts';
import { ruby } from './ruby.ts';

/** Every SDK studied, the reference first. */
export const SDKS: readonly SdkRecord[] = [javascript, python, kotlin, swift, go, csharp, dart, ruby];
