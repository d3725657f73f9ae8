"""Demo content for the home page: quick links and a featured item, added once."""

from wagtail import hooks

from .models import HomePage

QUICK_LINKS = [
    ("内部通告", "/notices/", "通知、制度与已阅确认"),
    ("提交表单", "/forms/", "需求单、反馈单、联系单、转呈单"),
    ("我的提交", "/matters/mine/", "查看进度、补充材料"),
    ("部门待办", "/matters/todo/", "本部门要办理的事项"),
    ("部门间函件", "/letters/", "签收、复函与归档"),
    ("站内信", "/inbox/", "提醒与催办"),
    ("搜索", "/search/", "通告、函件、事项一搜即得"),
]


@hooks.register("portal_seed_demo")
def seed_home_page(log):
    home = HomePage.objects.first()
    if home is None or len(home.body):
        return
    home.welcome = "件件有回音、事事有结果：通告在这里发布，事项在这里流转，函件在这里归档。"
    home.body = [
        {
            "type": "quick_links",
            "value": {
                "heading": "常用入口",
                "links": [{"title": t, "page": None, "url": u, "description": d} for t, u, d in QUICK_LINKS],
            },
        },
        {
            "type": "featured",
            "value": {
                "title": "跨部门协作工作机制",
                "text": "协作需求 1 个工作日内响应；问题反馈由协调岗 1 个工作日内审核分派；处理部门每 2 个工作日报告进度，紧急事项每日报告。",
                "page": None,
            },
        },
    ]
    home.save_revision().publish()
    log("首页：快捷入口与推荐内容")


seed_home_page.order = 95
