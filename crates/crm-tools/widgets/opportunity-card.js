// getOpportunity: one deal with its figures, contact roles and recent activities.
sfmcp.mount(function (data, root) {
  var h = sfmcp.el;
  var account = data.account || {};
  var owner = data.owner || {};
  var state = data.isWon === true ? ['Won', 'good'] : data.isClosed === true ? ['Lost', 'bad'] : ['Open', null];
  sfmcp.add(root,
    sfmcp.add(h('h1'), sfmcp.link(data.url, sfmcp.show(data.name))),
    h('p', 'sub', [account.name, account.industry].filter(function (v) { return !sfmcp.blank(v); }).join(' · ') || 'No account'),
    sfmcp.add(h('div', 'badges'), sfmcp.badge(data.stage), sfmcp.badge(state[0], state[1]), sfmcp.badge(data.forecastCategory)),
    sfmcp.add(h('div', 'tiles'),
      sfmcp.tile('Amount', sfmcp.money(data.amount)),
      sfmcp.tile('Probability', sfmcp.percent(data.probability)),
      sfmcp.tile('Close date', sfmcp.date(data.closeDate))),
    sfmcp.facts([
      ['Owner', owner.name],
      ['Next step', data.nextStep],
      ['Type', data.type],
      ['Lead source', data.leadSource],
      ['Description', data.description]
    ]));
  var roles = sfmcp.list(data.contactRoles);
  root.appendChild(h('h3', null, 'Contact roles (' + sfmcp.count(roles.length) + ')'));
  root.appendChild(roles.length ? sfmcp.table(roles, [
    ['Name', function (r) { return r.name; }],
    ['Title', function (r) { return r.title; }],
    ['Role', function (r) { return r.role; }],
    ['Primary', function (r) { return r.isPrimary === true ? 'Primary' : ''; }]
  ]) : h('p', 'empty', 'No contact roles.'));
  var activities = sfmcp.list(data.recentActivities);
  root.appendChild(h('h3', null, 'Recent activities (' + sfmcp.count(activities.length) + ')'));
  root.appendChild(activities.length ? sfmcp.table(activities, [
    ['Date', function (a) { return sfmcp.date(a.date); }],
    ['Kind', function (a) { return a.kind; }],
    ['Subject', function (a) { return a.subject; }],
    ['With', function (a) { return a.who; }],
    ['Status', function (a) { return a.status; }]
  ]) : h('p', 'empty', 'No activities.'));
});
