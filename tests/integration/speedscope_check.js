// Opens a speedscope file in the real speedscope app (from npm) in Debian's
// chromium, through its own file picker, and prints what the app shows as
// JSON: the toolbar (profile name), the Sandwich view's table of functions,
// and any error the app raised. Usage: node speedscope_check.js APP.html FILE
'use strict';
const { chromium } = require('playwright-core');

(async () => {
	const [app, file] = process.argv.slice(2);
	const browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run'],
	});
	const page = await browser.newPage();
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('dialog', async (d) => { errors.push('dialog: ' + d.message()); await d.dismiss(); });
	await page.goto('file://' + app);
	await page.setInputFiles('input[type=file]', file);
	await page.getByText('Sandwich').click({ timeout: 20000 });
	await page.getByText('Symbol Name').waitFor({ timeout: 20000 });
	const text = await page.evaluate(() => document.body.innerText);
	console.log(JSON.stringify({ text, errors }));
	await browser.close();
})().catch((e) => {
	console.log(JSON.stringify({ text: '', errors: ['driver: ' + e] }));
	process.exit(1);
});
