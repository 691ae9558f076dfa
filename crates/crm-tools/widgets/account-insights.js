// getAccountInsights: the account, its pipeline figures, open deals, key contacts and open cases.
sfmcp.mount(function (data, root) {
  var h = sfmcp.el;
  var account = data.account || {};
  var pipeline = data.pipeline || {};
  var place = [account.billingCity, account.billingState, account.billingCountry]
    .filter(function (v) { return !sfmcp.blank(v); }).join(', ');
  sfmcp.add(root,
    sfmcp.add(h('h1'), sfmcp.link(account.url, sfmcp.show(account.name))),
    h('p', 'sub', [account.industry, account.type, place].filter(function (v) { return !sfmcp.blank(v); }).join(' · ') || '—'),
    sfmcp.add(h('div', 'badges'), sfmcp.badge(account.rating)),
    sfmcp.add(h('div', 'tiles'),
      sfmcp.tile('Open opportunities', sfmcp.count(pipeline.openOpportunities)),
      sfmcp.tile('Total pipeline', sfmcp.money(pipeline.totalPipeline)),
      sfmcp.tile('Weighted pipeline', sfmcp.money(pipeline.weightedPipeline)),
      sfmcp.tile('Open cases', sfmcp.count(data.openCaseCount))),
    sfmcp.facts([
      ['Owner', account.owner],
      ['Annual revenue', sfmcp.money(account.annualRevenue)],
      ['Employees', sfmcp.count(account.numberOfEmployees)],
      ['Website', account.website],
      ['Phone', account.phone],
      ['Without amount', pipeline.withoutAmount > 0 ? sfmcp.plural(pipeline.withoutAmount, 'open deal', 'open deals') : null]
    ]));
  var deals = sfmcp.list(data.openOpportunities);
  var listed = sfmcp.finite(pipeline.openOpportunities) && pipeline.openOpportunities > deals.length
    ? ' — ' + sfmcp.count(deals.length) + ' of ' + sfmcp.count(pipeline.openOpportunities) + ' listed' : '';
  root.appendChild(h('h3', null, 'Open opportunities' + listed));
  root.appendChild(deals.length ? sfmcp.table(deals, [
    ['Name', function (o) { return sfmcp.link(o.url, sfmcp.show(o.name)); }],
    ['Stage', function (o) { return o.stage; }],
    ['Amount', function (o) { return sfmcp.money(o.amount); }, 'num'],
    ['Prob.', function (o) { return sfmcp.percent(o.probability); }, 'num'],
    ['Close', function (o) { return sfmcp.date(o.closeDate); }]
  ]) : h('p', 'empty', 'No open opportunities.'));
  var contacts = sfmcp.list(data.keyContacts);
  root.appendChild(h('h3', null, 'Key contacts'));
  root.appendChild(contacts.length ? sfmcp.table(contacts, [
    ['Name', function (c) { return c.name; }],
    ['Title', function (c) { return c.title; }],
    ['Deal roles', function (c) { return sfmcp.list(c.dealRoles).join(', '); }],
    ['Email', function (c) { return c.email; }]
  ]) : h('p', 'empty', 'No contacts.'));
  var cases = sfmcp.list(data.openCases);
  root.appendChild(h('h3', null, 'Open cases'));
  root.appendChild(cases.length ? sfmcp.table(cases, [
    ['Case', function (c) { return c.caseNumber; }],
    ['Subject', function (c) { return c.subject; }],
    ['Priority', function (c) { return c.priority; }],
    ['Status', function (c) { return c.status; }],
    ['Opened', function (c) { return sfmcp.date(c.createdDate); }]
  ]) : h('p', 'empty', 'No open cases.'));
});
