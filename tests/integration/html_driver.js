// Drives a sampletop HTML report inside headless Chromium (injected by
// test_reports.sh before </body>): real DOM events on the real page, results
// written as "key=value" lines into <pre id="test-results"> for --dump-dom.
(function () {
	'use strict';
	var out = [], hot = window.TEST_HOT;
	function put(k, v) { out.push(k + '=' + String(v).replace(/\n/g, ' ')); }
	function cells(name) {
		return Array.prototype.filter.call(document.querySelectorAll('#flame .cell'),
			function (c) { return c.textContent === name; });
	}
	// Laid out and not hidden (a closed details element keeps its content
	// laid out in Chromium, but hidden: checkVisibility knows).
	function shown(el) {
		return el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0;
	}
	function fire(el, type, init) {
		var e = new MouseEvent(type, Object.assign({ bubbles: true, cancelable: true,
			clientX: 50, clientY: 50 }, init || {}));
		el.dispatchEvent(e);
	}
	function run() {
		try {
			put('ready', !!window.sampletopReady);
			put('pwned', !!window.pwned);
			put('cells', document.querySelectorAll('#flame .cell').length);
			var h = cells(hot);
			put('hot_cells', h.length);
			put('hot_cell_background', h.length ? h[0].style.background : '');
			put('evil_text_cells', cells(window.TEST_EVIL || '').length);
			put('injected_elements', document.querySelectorAll('#flame img, #tree img, #flame script, #tree script').length);
			if (h.length) {
				fire(h[0], 'mousemove');
				var tip = document.getElementById('tip');
				put('tip_visible', tip.style.display === 'block');
				put('tip_text', tip.textContent);
				var before = h[0].style.width;
				fire(h[0], 'click');
				var cr = document.getElementById('crumbs');
				put('zoom_text', cr.textContent);
				put('zoom_width_before', before);
				put('zoom_width_after', cells(hot)[0] ? cells(hot)[0].style.width : 'gone');
				put('selected_row', (document.querySelector('.row.sel') || { dataset: {} }).dataset.name);
				fire(cr.querySelector('span'), 'click');
				put('unzoomed', cr.dataset.zoom);
			}
			var det = document.getElementById('counters');
			if (det) {
				var sum = det.querySelector('summary'), pre = det.querySelector('pre');
				put('counters_summary_visible', shown(sum) && sum.textContent.length > 0);
				put('counters_open_before', det.open);
				put('counters_text_visible_before', shown(pre));
				sum.click();
				put('counters_open_after', det.open);
				put('counters_text_visible_after', shown(pre));
				put('counters_listed', pre.textContent.split('\n').filter(function (l) {
					return /^  [a-z_]+ +[0-9,]+  \S/.test(l);
				}).length);
				sum.click();
			}
			var s = document.getElementById('search');
			s.value = window.TEST_SEARCH || hot;
			s.dispatchEvent(new Event('input', { bubbles: true }));
			put('search_status', document.getElementById('status').textContent);
			put('search_matches', document.getElementById('status').dataset.matches);
			put('match_cells', document.querySelectorAll('#flame .cell.match').length);
			put('dim_cells', document.querySelectorAll('#flame .cell.dim').length);
			var rows = document.querySelectorAll('#tree .row');
			put('tree_rows', rows.length);
			put('off_cpu_rows', Array.prototype.map.call(document.querySelectorAll('#tree .row.off'),
				function (r) { return r.dataset.name; }).join('|'));
			var hr = Array.prototype.filter.call(rows, function (r) { return r.dataset.name === hot; });
			put('tree_hot_rows', hr.length);
			if (hr.length) {
				var kids = hr[0].nextSibling;
				var open = kids.childNodes.length;
				fire(hr[0], 'click');
				put('tree_toggle', open + '->' + kids.childNodes.length);
			}
		} catch (e) {
			put('error', e && e.stack || e);
		}
		var pre = document.createElement('pre');
		pre.id = 'test-results';
		pre.textContent = '\n' + out.join('\n') + '\n';
		document.body.appendChild(pre);
	}
	if (window.sampletopReady) run(); else window.addEventListener('load', run);
})();
