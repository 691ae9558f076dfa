// scoreLeads: ranked leads, each score with the factors that make it up.
sfmcp.mount(function (data, root) {
  var h = sfmcp.el;
  var leads = sfmcp.list(data.leads);
  var factorNames = {
    industry: 'Industry', companySize: 'Company size', annualRevenue: 'Annual revenue', title: 'Title',
    engagement: 'Engagement', rating: 'Rating', recency: 'Recency', leadSource: 'Lead source'
  };
  var grades = { A: 'good', B: 'cold', C: 'warn', D: 'bad' };
  sfmcp.add(root,
    h('h1', null, sfmcp.plural(data.scored, 'lead scored', 'leads scored')),
    h('p', 'sub', 'of ' + sfmcp.count(data.matching) + ' matching · best ' + sfmcp.count(leads.length) + ' shown · as of ' + sfmcp.date(data.asOf) +
      ' · engagement over ' + sfmcp.plural(data.engagementDays, 'day', 'days')));
  if (data.truncated === true) {
    root.appendChild(h('p', 'note', 'More leads matched than could be scored: narrow the filters.'));
  }
  if (!leads.length) {
    root.appendChild(h('p', 'empty', 'No leads to show.'));
    return;
  }
  var grid = h('div', 'grid');
  leads.forEach(function (lead) {
    var score = sfmcp.finite(lead.score) ? Math.max(0, Math.min(100, lead.score)) : 0;
    var bar = h('span');
    bar.style.width = score + '%';
    var byline = [lead.title, lead.company].filter(function (v) { return !sfmcp.blank(v); });
    sfmcp.add(grid, sfmcp.add(h('article', 'card'),
      sfmcp.add(h('div', 'card-head'),
        sfmcp.add(h('h2'), h('span', 'note', '#' + sfmcp.show(lead.rank) + ' '), sfmcp.link(lead.url, sfmcp.show(lead.name))),
        sfmcp.add(h('span'), h('span', 'score', sfmcp.decimal(lead.score) + ' '), sfmcp.badge(lead.grade, grades[lead.grade]))),
      h('p', 'line', byline.length ? byline.join(' · ') : '—'),
      sfmcp.add(h('div', 'bar'), bar),
      sfmcp.table(sfmcp.list(lead.factors), [
        ['Factor', function (f) { return factorNames[f.factor] || f.factor; }],
        ['Points', function (f) { return sfmcp.decimal(f.points) + ' / ' + sfmcp.decimal(f.maxPoints); }, 'num'],
        ['Why', function (f) { return f.reason; }]
      ])));
  });
  root.appendChild(grid);
});
