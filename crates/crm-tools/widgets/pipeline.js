// analyzePipeline: the period's totals and forecasts, risk factors, and the deals most likely to
// close and most at risk.
sfmcp.mount(function (data, root) {
  var h = sfmcp.el;
  var period = data.period || {};
  var totals = data.totals || {};
  var forecast = data.forecast || {};
  var heading = 'Pipeline — ' + sfmcp.show(period.label) + (sfmcp.blank(data.owner) ? '' : ' · ' + data.owner);
  sfmcp.add(root,
    h('h1', null, heading),
    h('p', 'sub', 'Closing ' + sfmcp.date(period.start) + ' – ' + sfmcp.date(period.end) + ' · as of ' + sfmcp.date(data.asOf)),
    sfmcp.add(h('div', 'tiles'),
      sfmcp.tile('Open deals', sfmcp.count(totals.openDeals)),
      sfmcp.tile('Total amount', sfmcp.money(totals.totalAmount)),
      sfmcp.tile('Weighted forecast', sfmcp.money(forecast.weighted)),
      sfmcp.tile('Historical forecast', sfmcp.money(forecast.historical)),
      sfmcp.tile('At risk', sfmcp.count(totals.atRisk) + ' · ' + sfmcp.money(totals.atRiskAmount))),
    h('p', 'note', 'Historical win rate ' + (sfmcp.finite(forecast.winRate) ? sfmcp.percent(forecast.winRate * 100) : '—') +
      (sfmcp.blank(forecast.winRateBasis) ? '' : ' (' + forecast.winRateBasis + ')')));
  var risks = sfmcp.list(data.riskSummary);
  root.appendChild(h('h3', null, 'Risk factors'));
  root.appendChild(risks.length ? sfmcp.table(risks, [
    ['Risk', function (r) { return r.label; }],
    ['Deals', function (r) { return sfmcp.count(r.deals); }, 'num'],
    ['Amount', function (r) { return sfmcp.money(r.amount); }, 'num']
  ]) : h('p', 'empty', 'No risk factors.'));
  var stages = sfmcp.list(forecast.byStage);
  if (stages.length) {
    root.appendChild(h('h3', null, 'Forecast by stage'));
    root.appendChild(sfmcp.table(stages, [
      ['Stage', function (s) { return s.stage; }],
      ['Deals', function (s) { return sfmcp.count(s.deals); }, 'num'],
      ['Amount', function (s) { return sfmcp.money(s.amount); }, 'num'],
      ['Weighted', function (s) { return sfmcp.money(s.weighted); }, 'num'],
      ['Historical', function (s) { return sfmcp.money(s.historical); }, 'num']
    ]));
  }
  var likely = sfmcp.list(data.likelyToClose);
  root.appendChild(h('h3', null, 'Most likely to close'));
  root.appendChild(likely.length ? sfmcp.table(likely, [
    ['Deal', function (d) { return sfmcp.link(d.url, sfmcp.show(d.name)); }],
    ['Account', function (d) { return d.account; }],
    ['Amount', function (d) { return sfmcp.money(d.amount); }, 'num'],
    ['Close', function (d) { return sfmcp.date(d.closeDate); }],
    ['Likelihood', function (d) { return sfmcp.finite(d.likelihood) ? sfmcp.percent(d.likelihood * 100) : '—'; }, 'num'],
    ['Why', function (d) { return sfmcp.list(d.reasons).join('; '); }]
  ]) : h('p', 'empty', 'No open deals in this period.'));
  var atRisk = sfmcp.list(data.atRiskDeals);
  root.appendChild(h('h3', null, 'Deals at risk'));
  root.appendChild(atRisk.length ? sfmcp.table(atRisk, [
    ['Deal', function (d) { return sfmcp.link(d.url, sfmcp.show(d.name)); }],
    ['Owner', function (d) { return d.owner; }],
    ['Amount', function (d) { return sfmcp.money(d.amount); }, 'num'],
    ['Close', function (d) { return sfmcp.date(d.closeDate); }],
    ['Risks', function (d) { return sfmcp.list(d.risks).map(function (r) { return r.detail; }).join('; '); }]
  ]) : h('p', 'empty', 'No deal has a risk factor.'));
  var notes = sfmcp.list(data.notes);
  if (notes.length) {
    var ul = h('ul', 'plain note');
    notes.forEach(function (n) { ul.appendChild(h('li', null, n)); });
    root.appendChild(ul);
  }
});
