// Run inside a fresh app that installed the packed tarball: the package as a user imports it. Captions the tiny
// fixture model's images and checks Hugging Face's greedy token ids (generation.json), and that the addon used is
// the one the scenario expects. Usage: node app-caption.mjs <fixtures/blip2-tiny> <prebuilt|source>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Blip2Captioner, runtimeInfo } from 'blip2-progressive';

const [tiny, expectedKind] = process.argv.slice(2);
const golden = JSON.parse(readFileSync(join(tiny, 'generation.json'), 'utf8'));
const trim = (row) => (row.indexOf(1) > 0 ? row.slice(0, row.indexOf(1) + 1) : row);
const images = [join(tiny, 'images', 'img0_rgb_64x48.png'), join(tiny, 'images', 'img1_rgb_40x72.jpg')];

const captioner = await Blip2Captioner.fromPretrained(join(tiny, 'model'), { threads: 1 });
const captions = await captioner.caption(images, { prompt: 'caption:', maxNewTokens: 12 });
captioner.dispose();
const got = JSON.stringify(captions.map((c) => c.tokenIds));
const want = JSON.stringify(golden.main.greedy.sequences.map(trim));
const info = await runtimeInfo();
console.log(`addon: ${info.addon.file} (${info.addon.kind}); greedy ids ${got}`);
if (got !== want) throw new Error(`greedy token ids ${got} differ from Hugging Face's ${want}`);
if (info.addon.kind !== expectedKind) throw new Error(`expected the ${expectedKind} addon, got ${info.addon.kind} (${info.addon.file})`);
if (info.addon.file.includes('/build/')) throw new Error('the installed package holds a build/ folder');
console.log(`install check: captions equal Hugging Face's greedy ids with the ${expectedKind} addon`);
