"""Write services of the platform; views, admin hooks, commands and tasks call these."""
